/**
 * Messages over a byte stream (the stdin and stdout of an agent host, a bus
 * node host or a reader host: locally,
 * in a namespace or through ssh): each is a 4-byte big-endian length and
 * the v8 serialization of the value, the same structured clone a worker
 * thread's postMessage makes, so workers need not know how far away the
 * coordinator is.
 */
import { deserialize, serialize } from 'node:v8';
import type { Readable, Writable } from 'node:stream';

const MAX_FRAME = 512 * 1024 * 1024;

export function writeFrame(stream: Writable, value: unknown): boolean {
  const body = serialize(value);
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(body.length);
  stream.write(header);
  return stream.write(body);
}

/** Calls `onFrame` with every value read from `stream`; a corrupt length is reported through `onError`. */
export function readFrames(stream: Readable, onFrame: (value: unknown) => void, onError: (error: Error) => void): void {
  let buffered: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    buffered.push(chunk);
    size += chunk.length;
    if (size < 4) return;
    let data = buffered.length === 1 ? buffered[0]! : Buffer.concat(buffered, size);
    let offset = 0;
    while (data.length - offset >= 4) {
      const length = data.readUInt32BE(offset);
      if (length > MAX_FRAME) {
        stream.destroy();
        onError(new Error(`a frame of ${length} bytes is not one of ours (the stream is corrupt, or not from a busbench process)`));
        return;
      }
      if (data.length - offset - 4 < length) break;
      const value = deserialize(data.subarray(offset + 4, offset + 4 + length));
      offset += 4 + length;
      onFrame(value);
    }
    data = data.subarray(offset);
    buffered = data.length > 0 ? [data] : [];
    size = data.length;
  });
}
