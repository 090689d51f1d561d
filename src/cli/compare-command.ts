/**
 * `busbench compare <baseline> <candidate>`: two runs, two campaigns (grid
 * point by grid point) or a run against a campaign's points, side by side,
 * with each threshold's verdict weighed against the run-to-run noise
 * (src/analysis/compare.ts), as a table, Markdown or JSON, and as JUnit XML
 * for CI. Exits 0 (pass), 99 (a threshold failed) or 98 (inconclusive).
 */
import { writeFile } from 'node:fs/promises';
import Table from 'cli-table3';
import { Option, type Command } from 'commander';
import { EXIT, UsageError } from '../errors.js';
import { loadInputs } from '../results/read.js';
import { compareInputs, DEFAULT_THRESHOLDS, rowTexts, type ComparedPair, type Comparison, type Verdict } from '../analysis/compare.js';
import { junitXml, type JunitSuite } from '../analysis/junit.js';
import { METRICS } from '../analysis/metrics.js';
import { parseThresholds, readThresholdsFile, type Threshold } from '../analysis/thresholds.js';

const MARK: Record<Verdict, string> = { pass: '✓', fail: '✗', inconclusive: '?' };
const EXIT_OF: Record<Verdict, number> = { pass: EXIT.ok, fail: EXIT.thresholdFailed, inconclusive: EXIT.inconclusive };

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function sideLines(pair: ComparedPair): string[] {
  return [
    `baseline:  ${pair.baseline.label}`,
    `candidate: ${pair.candidate.label}`,
    ...[...pair.baseline.warnings.map((w) => `baseline: ${w}`), ...pair.candidate.warnings.map((w) => `candidate: ${w}`)].map((w) => `WARNING ${w}`),
  ];
}

function pairTable(pair: ComparedPair): string {
  const table = new Table({
    head: ['metric', 'baseline', 'candidate', 'difference', 'relative', 'noise of relative'],
    style: { head: [], border: [], compact: true },
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right'],
  });
  for (const row of pair.rows) table.push([row.metric, ...rowTexts(row)]);
  return table.toString();
}

function thresholdLines(pair: ComparedPair): string[] {
  return pair.thresholds.map((t) => `  ${MARK[t.verdict]} ${t.threshold.padEnd(18)} ${t.explanation}`);
}

function missingLines(pair: ComparedPair): string[] {
  return pair.rows.filter((r) => r.missing).map((r) => `  ${r.metric}: not measured, ${r.missing}`);
}

function verdictLine(comparison: Comparison): string {
  const counts = { pass: 0, fail: 0, inconclusive: 0 };
  for (const pair of comparison.pairs) for (const t of pair.thresholds) counts[t.verdict]++;
  return (
    `verdict: ${comparison.verdict.toUpperCase()} (exit ${EXIT_OF[comparison.verdict]}): ${counts.pass} passed, ${counts.fail} failed, ` +
    `${counts.inconclusive} inconclusive over ${comparison.pairs.length} comparison(s)${comparison.defaultThresholds ? `; default thresholds ${DEFAULT_THRESHOLDS.join(' ')}` : ''}`
  );
}

export function comparisonText(comparison: Comparison): string {
  const lines: string[] = [];
  for (const pair of comparison.pairs) {
    if (comparison.pairs.length > 1) lines.push(`== ${pair.name}: ${pair.verdict}`);
    lines.push(...sideLines(pair), pairTable(pair));
    const missing = missingLines(pair);
    if (missing.length > 0) lines.push('not measured:', ...missing);
    lines.push('thresholds:', ...thresholdLines(pair), '');
  }
  lines.push(...comparison.notes.map((n) => `note: ${n}`));
  lines.push(
    'noise: a side with repeats spreads over its runs (min–max); a single run is bootstrapped (latency: whole seconds of its histograms resampled, or its values where it kept none; throughput: its seconds); counts are exact.',
    verdictLine(comparison),
  );
  return lines.join('\n');
}

function markdownCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function comparisonMarkdown(comparison: Comparison): string {
  const lines = [`## busbench compare: ${MARK[comparison.verdict]} ${comparison.verdict}`, ''];
  for (const pair of comparison.pairs) {
    lines.push(`### ${markdownCell(pair.name)}: ${MARK[pair.verdict]} ${pair.verdict}`, '');
    lines.push(`Baseline: \`${pair.baseline.label}\`, candidate: \`${pair.candidate.label}\``, '');
    for (const w of [...pair.baseline.warnings.map((w) => `baseline: ${w}`), ...pair.candidate.warnings.map((w) => `candidate: ${w}`)]) {
      lines.push(`> **Warning** ${markdownCell(w)}`, '');
    }
    lines.push('| metric | baseline | candidate | difference | relative | noise of relative |', '|---|---:|---:|---:|---:|---:|');
    for (const row of pair.rows) lines.push(`| ${[row.metric, ...rowTexts(row)].map(markdownCell).join(' | ')} |`);
    lines.push('', '| | threshold | figures | why |', '|---|---|---|---|');
    for (const t of pair.thresholds)
      lines.push(`| ${MARK[t.verdict]} | \`${markdownCell(t.threshold)}\` | ${markdownCell(t.figures)} | ${markdownCell(t.explanation)} |`);
    lines.push('');
  }
  if (comparison.notes.length > 0) lines.push(...comparison.notes.map((note) => `- ${markdownCell(note)}`), '');
  lines.push(verdictLine(comparison));
  return lines.join('\n');
}

export function comparisonJunit(comparison: Comparison): string {
  const suites: JunitSuite[] = comparison.pairs.map((pair) => ({
    name: pair.name,
    properties: { baseline: pair.baseline.label, candidate: pair.candidate.label, verdict: pair.verdict },
    cases: pair.thresholds.map((t) => ({
      name: t.threshold,
      outcome: t.verdict,
      message: t.explanation,
      details: `${t.explanation}\nbaseline: ${pair.baseline.label}\ncandidate: ${pair.candidate.label}`,
    })),
  }));
  return junitXml('busbench compare', suites);
}

/** Thresholds from --threshold (each possibly several, comma-separated) and --thresholds-file. */
async function thresholdsFrom(flags: { threshold?: string[]; thresholdsFile?: string }): Promise<Threshold[]> {
  const out: Threshold[] = [];
  for (const text of flags.threshold ?? []) out.push(...parseThresholds(text, { relative: true, source: '--threshold' }));
  if (flags.thresholdsFile) out.push(...(await readThresholdsFile(flags.thresholdsFile, { relative: true })));
  return out;
}

const METRIC_HELP = METRICS.map((m) => `    ${m.name.padEnd(12)} ${m.description}${m.scopes.length ? ` {${m.scopes.join(',')}}` : ''}`).join('\n');

export function addCompareCommand(program: Command): void {
  program
    .command('compare')
    .summary('compare a candidate with a baseline: differences, noise, thresholds, a verdict for CI')
    .description(
      'Compare results side by side: two run directories (or result.json files), two campaign directories (runs matched by their ' +
        "parameters, a point's repeats taken together), or a run against each point of a campaign. Shows throughput, latency " +
        'percentiles (from the histograms merged, never averaged) and the accounting, with absolute and relative differences and the ' +
        'noise of each difference, then judges thresholds against that noise: pass when the whole noise interval satisfies a threshold, ' +
        'fail when none of it does, inconclusive when it straddles the bound. Noise comes from the repeats when a side has several runs ' +
        "(min–max of their values), else from a bootstrap over the run's seconds (its per-second histograms and counts); counts are exact.",
    )
    .addHelpText(
      'after',
      '\nThresholds: metric{scope} op value, op one of < <= > >= == !=; value absolute (50ms, 800us, 2000, 0, 0.5%, 512MiB)\n' +
        'or relative to the baseline with a sign (+10%, -5%). Several per --threshold, separated by commas.\n' +
        'Metrics (µs inside; latency is what senders see, worst over patterns, unless scoped):\n' +
        `${METRIC_HELP}\n` +
        'Scopes: {pattern=call-anycast}, {role=server,pattern=call-anycast}, {leg=corrected|processing|reply}.\n' +
        `Without thresholds: ${DEFAULT_THRESHOLDS.join(' ')} (regressions worth stopping for, and the failures that should never appear).\n` +
        '\nExamples:\n' +
        '  busbench compare results/quickstart-20260101-100000 results/quickstart-20260102-100000\n' +
        '  busbench compare results/clients-sweep results/clients-sweep-rc2 --threshold "p99<+10%,throughput>-5%" --junit compare.xml\n' +
        '  busbench compare base/ cand/ --threshold "p99{pattern=call-anycast}<20ms" --threshold "duplicated==0" --format md\n' +
        '  busbench compare base/ cand/ --thresholds-file gates.yaml     # gates.yaml: [ "p99<+10%", "timeouts==0" ]\n' +
        "\nA single run's bootstrap sees only the noise inside that run, not what changes from one run to the next (the machine's other\n" +
        'load, the state of the bus): two single runs can differ beyond it. Decide on repeats (a campaign with repeat: 3), whose spread is that\n' +
        'run-to-run noise. A short run often cannot tell a 10 % p99 change from noise, and says so (inconclusive).\n' +
        `\nExit codes: ${EXIT.ok} every threshold passed; ${EXIT.thresholdFailed} one failed; ${EXIT.inconclusive} none failed but one is within the noise; ` +
        `${EXIT.usage} bad input.\nJUnit (--junit): a <testsuite> per comparison, a <testcase> per threshold, <failure> when it fails, <skipped> when inconclusive.`,
    )
    .argument('<baseline>', 'run directory, result.json, or campaign directory')
    .argument('<candidate>', 'run directory, result.json, or campaign directory')
    .option('--threshold <expr>', 'a threshold (repeatable; several per flag separated by commas), e.g. "p99<+10%"', collect)
    .option('--thresholds-file <file>', 'YAML list of thresholds (or thresholds: [...]), added to --threshold')
    .option('--junit <file>', 'also write the verdicts as JUnit XML')
    .addOption(
      new Option('--format <format>', 'output: a table, Markdown (for a pull request comment) or JSON').choices(['table', 'md', 'json']).default('table'),
    )
    .action(async (baselinePath: string, candidatePath: string, flags: { threshold?: string[]; thresholdsFile?: string; junit?: string; format: string }) => {
      const thresholds = await thresholdsFrom(flags);
      const [baseline, candidate] = [await loadInputs([baselinePath]), await loadInputs([candidatePath])];
      const comparison = compareInputs(baseline, candidate, { baseline: baselinePath, candidate: candidatePath }, { thresholds });
      // A relative difference from 0 is infinite, which JSON cannot say: written as "Infinity" / "-Infinity".
      const finite = (_key: string, value: unknown): unknown => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value);
      if (flags.format === 'json') process.stdout.write(`${JSON.stringify(comparison, finite, 2)}\n`);
      else if (flags.format === 'md') process.stdout.write(`${comparisonMarkdown(comparison)}\n`);
      else process.stdout.write(`${comparisonText(comparison)}\n`);
      if (flags.junit) {
        try {
          await writeFile(flags.junit, comparisonJunit(comparison));
        } catch (error) {
          throw new UsageError(`--junit ${flags.junit}: cannot write (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
        }
      }
      process.exitCode = EXIT_OF[comparison.verdict];
    });
}
