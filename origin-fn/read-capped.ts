/**
 * The one byte-capped body reader: S3 bodies (originals and variants), ingest downloads and the
 * playground's uploads are read through it, so no body is ever buffered past its cap.
 */
import type { Readable } from 'node:stream';

/** Thrown by readCapped when the body exceeds its cap. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/**
 * Reads a body stream into one Buffer, holding at most `maxBytes` (the chunk that crosses the
 * cap is dropped, the stream destroyed at once). A body shorter or longer than a known
 * `expectedLength` is a transport fault (a cut connection), never returned as an image.
 * An aborted `signal` destroys the stream (a slow body cannot hold the caller past its budget).
 */
export async function readCapped(
  body: Readable,
  maxBytes: number,
  expectedLength?: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const onAbort = () => body.destroy(new Error('aborted: the time budget ran out while reading'));
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of body) {
      const buf = toBuffer(chunk);
      total += buf.length;
      if (total > maxBytes) throw new BodyTooLargeError(`body exceeds ${maxBytes} bytes`);
      chunks.push(buf);
    }
  } catch (err) {
    // for-await already destroys the stream when the loop throws; be explicit so the socket
    // is released whatever the iterator does.
    body.destroy();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (expectedLength !== undefined && total !== expectedLength) {
    throw new Error(`body ended after ${total} of ${expectedLength} bytes`);
  }
  return Buffer.concat(chunks, total);
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new TypeError('unexpected chunk type in a body stream');
}
