/**
 * One loader for every configuration file (scenarios, campaigns,
 * inventories): YAML parsed with its positions → fields set from outside
 * (command-line flags) → JSON schema validation with defaults (ajv) → the
 * kind's own rules between fields. Every problem names the file, line,
 * column, field, what is allowed and what was given, with a did-you-mean
 * for unknown fields; all problems are reported at once, in one ConfigError.
 *
 * A kind is its schema, an `as const` object; its raw type is derived from
 * it (FromSchema), so the file format is described once. Two annotations of
 * ours in a schema say a field's problems in words:
 * - `message`: what to say when the value has not the allowed form, with
 *   `{got}` for the value given: one text for every failure of the node's own
 *   keywords (type, enum, pattern, minimum, minItems, not, anyOf, …), or one per
 *   keyword ({pattern: '…'}). Without it the words come from the keyword, and
 *   an anyOf says "must be <description>".
 * - `missing`: what the field is, added to "missing required field" when a
 *   required field is absent.
 */
import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject } from 'ajv';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { deleteField, setField } from './fields.js';
import { closestName } from '../util/text.js';

export type { JSONSchema };

/** A field: keys and list indexes from the document's root. */
export type Path = (string | number)[];

export interface Position {
  line?: number;
  column?: number;
}

export interface ConfigProblem extends Position {
  file: string;
  /** the field, e.g. "load.concurrency" ("" for the whole file) */
  path: string;
  message: string;
}

/** Every problem of a configuration file, one per line. Each kind throws its own subclass (ScenarioError, …). */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export type ConfigErrorClass = new (file: string, problems: ConfigProblem[]) => ConfigError;

export function formatProblem(p: ConfigProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  return `${where}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

export function dotted(path: Path): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** A value as a message shows what was given: "x", 5, a list, a mapping, nothing. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'a mapping';
  return String(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Finds where a field is in the YAML source, when there is a source. */
export class Locator {
  constructor(
    private readonly doc?: Document,
    private readonly lines?: LineCounter,
  ) {}

  private position(offset: number | undefined): Position {
    if (offset === undefined || !this.lines) return {};
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** The value at `path`, or with `key` the key of that field (for unknown keys), or the nearest parent that exists. */
  at(path: Path, key = false): Position {
    if (!this.doc) return {};
    for (let depth = path.length; depth >= 0; depth--) {
      const parent = depth > 0 ? this.doc.getIn(path.slice(0, depth - 1), true) : this.doc.contents;
      if (key && depth === path.length && isMap(parent)) {
        const pair = parent.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === path[depth - 1]);
        if (pair && isPair(pair) && isScalar(pair.key)) return this.position(pair.key.range?.[0]);
      }
      const node = (depth === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, depth), true)) as Node | null | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) return this.position(node.range[0]);
    }
    return {};
  }
}

/** What a configuration is made from: a value, the file (or "<command line>") it came from, and where its fields are. */
export interface ConfigSource {
  file: string;
  value: unknown;
  locator: Locator;
  /** parsed from a file's text: nothing at all there is "an empty file" */
  fromText: boolean;
}

/** YAML text → a source with positions; syntax errors are problems with their position. */
export function parseYaml(text: string, file: string, error: ConfigErrorClass = ConfigError): ConfigSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new error(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
        return { file, ...(pos ? { line: pos.line, column: pos.col } : {}), path: '', message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  return { file, value: doc.toJS(), locator: new Locator(doc, lines), fromText: true };
}

/** A plain value (quick flags, a campaign's run) as a source: the same checks, no positions. */
export function plainSource(value: unknown, file: string): ConfigSource {
  return { file, value, locator: new Locator(), fromText: false };
}

/** Why a file could not be read, in words (not a raw EISDIR or ENOENT). */
export function unreadable(error: unknown, what: string, example: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `no such ${what}; give the path of a YAML file such as ${example}`;
  if (code === 'EISDIR') return `is a directory; give a ${what} inside it, such as ${example}`;
  if (code === 'EACCES') return `cannot be read (permission denied)`;
  return `cannot read: ${(error as Error).message}`;
}

function suggestion(unknown: string, known: string[]): string {
  const name = closestName(unknown, known);
  return name ? `; did you mean "${name}"?` : '';
}

function segments(instancePath: string): Path {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** What the schema annotations of one node (see the top of this file) can say. */
interface Annotated {
  message?: string | Record<string, string>;
  missing?: string;
  description?: string;
  properties?: Record<string, Annotated>;
}

/** Keywords about the fields of a mapping rather than the value's own form: `message` does not speak for them. */
const FIELD_KEYWORDS = new Set(['required', 'additionalProperties', 'propertyNames', 'dependencies']);

function annotated(schema: unknown, keyword: string, got: string): string | undefined {
  const message = (schema as Annotated | undefined)?.message;
  const text = typeof message === 'string' ? (FIELD_KEYWORDS.has(keyword) ? undefined : message) : message?.[keyword];
  return text?.replace(/\{got\}/g, got);
}

function keywordMessage(error: ErrorObject, got: string): string {
  switch (error.keyword) {
    case 'type':
      return `must be ${error.params['type'] === 'integer' ? 'a whole number' : `a ${error.params['type']}`}, got ${got}`;
    case 'enum':
      return `must be one of ${(error.params['allowedValues'] as unknown[]).join(', ')}; got ${got}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${error.params['comparison']} ${error.params['limit']}, got ${got}`;
    case 'minItems':
      return `must list at least ${error.params['limit']} item(s)`;
    case 'pattern':
      return `must match ${error.params['pattern']}, got ${got}`;
    case 'anyOf':
      return `must be ${(error.parentSchema as Annotated | undefined)?.description ?? 'something else'}; got ${got}`;
    default:
      return `${error.message ?? 'is not valid'}, got ${got}`;
  }
}

/** ajv's errors → problems in words, located in the file. */
function schemaProblems(errors: ErrorObject[], file: string, locator: Locator, data: unknown): ConfigProblem[] {
  // An anyOf failure says it best itself; drop the noise of its branches.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  // An anyOf nested in another (a size inside the payload forms) at the same field: the outer one names every form.
  const outermostAnyOf = new Map<string, ErrorObject>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf') continue;
    const known = outermostAnyOf.get(e.instancePath);
    if (!known || e.schemaPath.length < known.schemaPath.length) outermostAnyOf.set(e.instancePath, e);
  }
  const problems: { problem: ConfigProblem; path: Path; keyName: boolean }[] = [];
  for (const error of errors) {
    if (error.keyword === 'anyOf' && outermostAnyOf.get(error.instancePath) !== error) continue;
    if (error.keyword !== 'anyOf' && anyOfPaths.has(error.instancePath) && error.schemaPath.includes('/anyOf/')) continue;
    if (error.keyword !== 'anyOf' && [...anyOfPaths].some((p) => error.instancePath.startsWith(`${p}/`) && error.schemaPath.includes('/anyOf/'))) continue;
    // A key that fails propertyNames is reported by the failure itself (below); ajv's summary of it says nothing more.
    if (error.keyword === 'propertyNames') continue;
    const path = segments(error.instancePath);
    let at = locator.at(path);
    let message: string;
    if (error.propertyName !== undefined) {
      // A failure of propertyNames: the key is the value given, and the problem is at the key.
      path.push(error.propertyName);
      at = locator.at(path, true);
      const got = describeValue(error.propertyName);
      message = annotated(error.parentSchema, error.keyword, got) ?? keywordMessage(error, got);
    } else if (error.keyword === 'required') {
      const name = error.params['missingProperty'] as string;
      const what = (error.parentSchema as Annotated | undefined)?.properties?.[name]?.missing;
      message = `missing required field "${name}"${what ? `: ${what}` : ''}`;
    } else if (error.keyword === 'additionalProperties') {
      const name = error.params['additionalProperty'] as string;
      const known = Object.keys((error.parentSchema as Annotated | undefined)?.properties ?? {});
      path.push(name);
      at = locator.at(path, true);
      message = `unknown field "${name}" (allowed: ${known.join(', ')})${suggestion(name, known)}`;
    } else {
      const got = describeValue(error.data);
      message = annotated(error.parentSchema, error.keyword, got) ?? keywordMessage(error, got);
    }
    const problem = { file, ...at, path: dotted(path), message };
    // One problem once: a value failing several keywords of a node with one message says it once.
    if (problems.some((p) => p.problem.path === problem.path && p.problem.message === problem.message)) continue;
    problems.push({ problem, path, keyName: error.propertyName !== undefined });
  }
  return keyByKey(problems, data).map((p) => p.problem);
}

/**
 * ajv checks every key's name (propertyNames) before any value: list a key's
 * name problem instead just before the problems of its own value, or of the
 * next keys, in the order of the keys in the file, as a reader meets them.
 */
function keyByKey<P extends { path: Path; keyName: boolean }>(problems: P[], data: unknown): P[] {
  const list = [...problems];
  const names = problems.filter((p) => p.keyName);
  for (const name of names) {
    const parent = name.path.slice(0, -1);
    const keys = Object.keys(valueAt(data, parent) ?? {});
    const rank = (p: P): number =>
      p.path.length > parent.length && parent.every((s, i) => p.path[i] === s) ? keys.indexOf(String(p.path[parent.length])) : -1;
    const own = rank(name);
    const from = list.indexOf(name);
    list.splice(from, 1);
    const next = list.findIndex((p) => rank(p) >= own);
    const after = list.reduce((found, p, i) => (rank(p) >= 0 ? i + 1 : found), -1);
    list.splice(next >= 0 ? next : after >= 0 ? after : from, 0, name);
  }
  return list;
}

function valueAt(data: unknown, path: Path): unknown {
  return path.reduce<unknown>((at, key) => (at !== null && typeof at === 'object' ? (at as Record<string | number, unknown>)[key] : undefined), data);
}

/** A field set (or removed) on the document before validation: a command-line flag over a file. */
export interface FieldOverride {
  /** dotted, as in a file: agents.clients, load.rate */
  field: string;
  /** the value; with remove, the field is taken out instead */
  value?: unknown;
  remove?: boolean;
  /** what set it, for messages: --clients, --set load.rate=100 */
  from: string;
}

/** Adds a problem at a field of the document; the loader locates it. */
export type AddProblem = (path: Path, message: string) => void;

export interface LoadOptions<T> {
  /** applied in order to the document before it is validated, so every check sees the result */
  overrides?: FieldOverride[];
  /** the rules between fields the schema cannot say; called once the schema holds, on the data with its defaults */
  check?: (data: T, add: AddProblem) => void;
}

/** A configuration that passed: its data, and where its fields are, for problems found later. */
export interface Loaded<T> {
  data: T;
  file: string;
  /** where a field is in the file (nothing without a file); with `key`, where its key is */
  at(path: Path, key?: boolean): Position;
}

export interface ConfigKind<T> {
  readonly schema: JSONSchema;
  /** a source (parseYaml, plainSource) → validated data with the schema's defaults; throws the kind's error with every problem */
  load(source: ConfigSource, options?: LoadOptions<T>): Loaded<T>;
  /** YAML text → validated data */
  parse(text: string, file: string, options?: LoadOptions<T>): Loaded<T>;
  /** a file → validated data; a file that cannot be read is a problem too */
  read(file: string, options?: LoadOptions<T>): Promise<Loaded<T>>;
}

export interface ConfigKindOptions {
  /** the error thrown, a subclass of ConfigError (ScenarioError, …) */
  error: ConfigErrorClass;
  /** why the file could not be read, in words (see unreadable) */
  unreadable: (error: unknown) => string;
}

/**
 * Where a schema has a default ajv will not fill in: inside anyOf, oneOf,
 * not or if, ajv ignores defaults, while FromSchema would type the field as
 * always there. A kind made of alternatives (a bus of one of several kinds)
 * keeps its defaults outside them.
 */
function unappliedDefaults(node: unknown, at = '', inAlternative = false): string[] {
  if (node === null || typeof node !== 'object') return [];
  const schema = node as Record<string, unknown>;
  const found = inAlternative && 'default' in schema ? [at || '/'] : [];
  const under = (value: unknown, path: string, alternative: boolean): string[] =>
    Array.isArray(value) ? value.flatMap((item, i) => unappliedDefaults(item, `${path}/${i}`, alternative)) : unappliedDefaults(value, path, alternative);
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === 'properties' || keyword === 'patternProperties' || keyword === 'definitions') {
      for (const [name, sub] of Object.entries(value as Record<string, unknown>))
        found.push(...unappliedDefaults(sub, `${at}/${keyword}/${name}`, inAlternative));
    } else if (['anyOf', 'oneOf', 'not', 'if'].includes(keyword)) found.push(...under(value, `${at}/${keyword}`, true));
    else if (['items', 'additionalItems', 'additionalProperties', 'propertyNames', 'allOf', 'then', 'else', 'contains'].includes(keyword))
      found.push(...under(value, `${at}/${keyword}`, inAlternative));
  }
  return found;
}

/** One ajv for every kind; the annotations of ours (see the top of this file) are keywords it knows and does not validate. */
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
ajv.addVocabulary(['message', 'missing']);

/**
 * A kind of configuration file from its schema; its data is typed from the
 * schema (FromSchema, computed once where the kind is defined), properties
 * with defaults being always there.
 */
export function defineConfig<S extends JSONSchema, T = FromSchema<S>>(schema: S, options: ConfigKindOptions): ConfigKind<T> {
  const lost = unappliedDefaults(schema);
  if (lost.length > 0) throw new Error(`schema: ajv does not fill in a default inside anyOf, oneOf, not or if; move it out (${lost.join(', ')})`);
  const validate = ajv.compile(schema as object);
  const root = schema as Annotated & { type?: unknown };
  function fail(file: string, problems: ConfigProblem[]): never {
    throw new options.error(file, problems);
  }

  function load(source: ConfigSource, { overrides = [], check }: LoadOptions<T> = {}): Loaded<T> {
    const { file, value, locator } = source;
    if (root.type === 'object' && !isRecord(value)) {
      const got = source.fromText && (value === null || value === undefined) ? 'an empty file' : describeValue(value);
      const message = typeof root.message === 'string' ? root.message.replace(/\{got\}/g, got) : `must be a mapping, got ${got}`;
      fail(file, [{ file, ...locator.at([]), path: '', message }]);
    }
    const data = structuredClone(value) as Record<string, unknown>;
    for (const o of overrides) {
      try {
        if (o.remove) deleteField(data, o.field);
        else setField(data, o.field, o.value);
      } catch (error) {
        fail(file, [{ file, path: o.field, message: `${(error as Error).message} (set by ${o.from})` }]);
      }
    }
    // A problem in a field a flag set is the flag's: its place in the file would point at the value it replaced.
    const blame = (problems: ConfigProblem[]): ConfigProblem[] =>
      problems.map((p) => {
        const o = [...overrides]
          .reverse()
          .find((o) => !o.remove && (p.path === o.field || p.path.startsWith(`${o.field}.`) || p.path.startsWith(`${o.field}[`)));
        return o ? { file: p.file, path: p.path, message: `${p.message} (set by ${o.from})` } : p;
      });
    if (!validate(data)) fail(file, blame(schemaProblems(validate.errors ?? [], file, locator, data)));
    const problems: ConfigProblem[] = [];
    check?.(data as T, (path, message) => void problems.push({ file, ...locator.at(path), path: dotted(path), message }));
    if (problems.length > 0) fail(file, blame(problems));
    return { data: data as T, file, at: (path, key) => locator.at(path, key) };
  }

  return {
    schema,
    load,
    parse: (text, file, loadOptions) => load(parseYaml(text, file, options.error), loadOptions),
    async read(file, loadOptions) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        return fail(file, [{ file, path: '', message: options.unreadable(error) }]);
      }
      return load(parseYaml(text, file, options.error), loadOptions);
    },
  };
}
