/**
 * The oslo.messaging message formats shared by the buses: the 2.0 envelope,
 * the flattened context, unique ids and serialized remote exceptions
 * (oslo_messaging/_drivers/common.py and amqp.py, 14.x).
 */
import { randomBytes } from 'node:crypto';
import { RemoteError } from './driver.js';

export const ENVELOPE_VERSION = '2.0';
const CONTEXT_PREFIX = '_context_';

/** `{"oslo.version": "2.0", "oslo.message": "<inner JSON>"}` as bytes. */
export function encodeEnvelope(inner: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ 'oslo.version': ENVELOPE_VERSION, 'oslo.message': JSON.stringify(inner) }));
}

/**
 * The inner message of a body. Like oslo's deserialize_msg it also accepts a
 * body that is not enveloped (old peers, notifications with version 1.0).
 */
export function decodeEnvelope(body: Buffer | string): Record<string, unknown> {
  const outer = JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as Record<string, unknown>;
  const inner = outer['oslo.message'];
  if (typeof inner === 'string' && outer['oslo.version'] !== undefined) {
    return JSON.parse(inner) as Record<string, unknown>;
  }
  return outer;
}

/** Flatten a context into the message as `_context_<key>` (oslo pack_context). */
export function packContext(message: Record<string, unknown>, context: Record<string, unknown>): void {
  for (const key in context) message[CONTEXT_PREFIX + key] = context[key];
}

/**
 * The `_context_<key>` entries of a message as a context (oslo
 * unpack_context). They stay in the message: deleting keys would turn the
 * decoded object into a dictionary-mode one, slow for every later read, and
 * nothing reads the message for them afterwards.
 */
export function unpackContext(message: Record<string, unknown>): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  for (const key in message) {
    if (key.startsWith(CONTEXT_PREFIX)) context[key.slice(CONTEXT_PREFIX.length)] = message[key];
  }
  return context;
}

/**
 * 32-hex-digit ids in the shape of uuid4().hex, as oslo uses for `_msg_id`,
 * `_unique_id` and queue suffixes. A random prefix per generator and a
 * counter: unique across processes, and far cheaper per message than a
 * fresh random UUID.
 */
export class HexIdGenerator {
  private readonly prefix = randomBytes(8).toString('hex');
  private counter = 0;
  next(): string {
    this.counter++;
    return this.prefix + this.counter.toString(16).padStart(16, '0');
  }
}

/** A random uuid4-style hex string (queue names, where uniqueness across runs matters). */
export function randomHex32(): string {
  return randomBytes(16).toString('hex');
}

/** oslo serialize_remote_exception: the `failure` field of a reply, itself a JSON string. */
export function serializeFailure(error: unknown): string {
  const err = error instanceof Error ? error : new Error(String(error));
  const remote = err instanceof RemoteError ? err : undefined;
  return JSON.stringify({
    class: remote?.exceptionClass ?? (err.name === 'Error' ? 'Exception' : err.name),
    module: remote?.exceptionModule ?? 'builtins',
    message: err.message,
    tb: (err.stack ?? '').split('\n'),
    args: [err.message],
    kwargs: {},
  });
}

/** The reply's `failure` (a JSON string, or an already parsed object) as a RemoteError. */
export function deserializeFailure(failure: unknown): RemoteError {
  let data: Record<string, unknown>;
  try {
    data = (typeof failure === 'string' ? JSON.parse(failure) : failure) as Record<string, unknown>;
  } catch {
    return new RemoteError('RemoteError', 'unknown', String(failure));
  }
  const tb = Array.isArray(data['tb']) ? (data['tb'] as unknown[]).map(String) : [];
  return new RemoteError(String(data['class'] ?? 'RemoteError'), String(data['module'] ?? 'unknown'), String(data['message'] ?? ''), tb);
}

/** Python's str(datetime.utcnow()): "2026-11-25 02:27:05.123456", as oslo notifications carry. */
export function pythonUtcTimestamp(date = new Date()): string {
  return date.toISOString().replace('T', ' ').replace('Z', '000');
}
