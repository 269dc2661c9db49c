/**
 * Optional verification through the CDN: GET the variant's URL (with the explicit format, so the
 * answer does not depend on Accept) and check the status and Content-Type. A 200 from the CDN
 * means the URL is valid (signature included) and the variant is served.
 */

import { cdnUrl } from '../edge-fn/sign-url.ts';
import { PrewarmError } from './errors.ts';
import type { PlannedVariant } from './plan.ts';

export function createCdnCheck(cdnBase: string, secret: string | undefined, timeoutMs = 30_000) {
  return async (source: string, variant: PlannedVariant, contentType: string): Promise<void> => {
    const url = cdnUrl(cdnBase, source, { preset: variant.preset, f: variant.format }, secret);
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      await res.arrayBuffer();
    } catch (cause) {
      throw new PrewarmError('VERIFY_CDN', `The CDN did not answer for ${url}`, {
        status: 502,
        transient: true,
        cause,
      });
    }
    const type = res.headers.get('content-type');
    if (res.status !== 200 || type !== contentType)
      throw new PrewarmError(
        'VERIFY_CDN',
        `The CDN answered ${res.status} ${type ?? '(no content-type)'} for ${url}, expected 200 ${contentType}`,
        { status: 502, transient: res.status >= 500 },
      );
  };
}
