/**
 * Small text helpers the whole grammar shares. Each call site is shorter than the method call
 * it replaces, and the edge bundle counts bytes (CloudFront allows 10,240).
 */

/** `text` in lower case: parameter names, keywords and extensions are case-insensitive. */
export function lower(text: string): string {
  return text.toLowerCase();
}

/** A header's token, trimmed and in lower case (`' On '` → `'on'`); '' when absent. */
export function token(header: string | undefined): string {
  return header ? lower(header.trim()) : '';
}
