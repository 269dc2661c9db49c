import { MAX_ECHO_CHARS } from './config.ts';
import type { ErrorCode, GrammarError } from './types.ts';

export function fail(status: 400 | 403, code: ErrorCode, message: string): GrammarError {
  return { ok: false, status: status, code: code, message: message };
}

export function badParam(message: string): GrammarError {
  return fail(400, 'IMG_BAD_PARAM', message);
}

/** Quote an outside value for an error message: JSON-escaped and cut to a readable length. */
export function quote(value: string): string {
  const cut = value.length > MAX_ECHO_CHARS ? `${value.slice(0, MAX_ECHO_CHARS)}…` : value;
  return JSON.stringify(cut);
}
