/**
 * The HEIC decode worker: one per decode (heic.ts), so a decode past its time limit is ended by
 * terminating the thread, and the WebAssembly memory it grew (about 5 bytes per pixel) is
 * given back when it exits. Receives the file in workerData, answers one message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeHeicToTiff, type HeicDecodeOptions, HeifError } from './heic-libheif.ts';

export interface HeicJob extends HeicDecodeOptions {
  input: Uint8Array;
}

export type HeicReply =
  | { ok: true; tiff: Uint8Array; width: number; height: number; channels: 3 | 4; profile: string }
  | { ok: false; message: string; heif: boolean; code?: number; subcode?: number };

const job = workerData as HeicJob;
let reply: HeicReply;
try {
  const { tiff, width, height, channels, profile } = decodeHeicToTiff(job.input, job);
  reply = { ok: true, tiff, width, height, channels, profile };
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  reply =
    err instanceof HeifError
      ? { ok: false, message, heif: true, code: err.code, subcode: err.subcode }
      : { ok: false, message, heif: false };
}
parentPort?.postMessage(reply, reply.ok ? [reply.tiff.buffer as ArrayBuffer] : []);
