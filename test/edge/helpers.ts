import {
  DEFAULT_GRAMMAR_CONFIG,
  type GrammarConfig,
  normalizeRequest,
  type Signing,
} from '../../edge-fn/grammar/index.ts';
import type { GrammarError, Normalized, QueryParam, ViewerRequest } from '../../edge-fn/grammar/types.ts';

/** Everything of a viewer request but its URL: headers (Accept, Save-Data, client hints) and the clock. */
export type RequestHeaders = Omit<ViewerRequest, 'path' | 'params'>;

/** `req('/a.jpg?w=800&q=75', { accept })` → the grammar's answer. */
export function req(
  url: string,
  headers: RequestHeaders = {},
  config: GrammarConfig = DEFAULT_GRAMMAR_CONFIG,
  signing?: Signing,
): Normalized | GrammarError {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const params: QueryParam[] = [];
  if (q >= 0) {
    for (const part of url.slice(q + 1).split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      params.push(
        eq < 0
          ? { name: decodeURIComponent(part), value: '' }
          : { name: decodeURIComponent(part.slice(0, eq)), value: decodeURIComponent(part.slice(eq + 1)) },
      );
    }
  }
  return normalizeRequest({ ...headers, path, params }, config, signing);
}

export function keyOf(result: Normalized | GrammarError): string {
  if (!result.ok) throw new Error(`expected a key, got ${result.status}: ${result.message}`);
  return result.key;
}

export function errorOf(result: Normalized | GrammarError): GrammarError {
  if (result.ok) throw new Error(`expected an error, got key ${result.key}`);
  return result;
}

export const CHROME_ACCEPT = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
export const SAFARI_OLD_ACCEPT = 'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5';
export const WEBP_ONLY_ACCEPT = 'image/webp,*/*';
