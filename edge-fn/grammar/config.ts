import type { QueryParam } from './types.ts';

/**
 * Grammar configuration. It is baked into the CloudFront function at build time, so the edge
 * and the origin must be built from the same config (both call `resolveGrammarConfig`).
 */
export interface GrammarConfig {
  /** Key prefix; bump it (v1 → v2) to invalidate every variant at once. */
  version: string;
  /** Sizes that requested widths and heights snap up to, ascending. Its last entry is the largest size. */
  ladder: number[];
  /** Named parameter sets, e.g. `{ mobile: { w: '828' } }`. */
  presets: Record<string, Record<string, string>>;
  /** Modern formats `f=auto` may choose, in order of preference. */
  autoFormats: Array<'avif' | 'webp'>;
  /** Source extensions whose legacy format is PNG (they can carry transparency). */
  alphaExtensions: string[];
  /** Byte budgets in KB that `maxkb=` snaps down to, ascending (the key's `kb<n>` is one of them). */
  budgets: number[];
  /** Network client hints that mark a slow link: `q=auto` becomes `qlite` (see docs/configuration.md). */
  slowLink: SlowLink;
}

/**
 * A link is slow when `ECT` is one of `ect`, or `RTT` ≥ `rttMs`, or `Downlink` < `downlinkMbps`
 * (0 turns the RTT or the downlink rule off). Defaults: the NetInfo table's 3G edge
 * (ECT 3g = RTT ≥ 270 ms or downlink ≤ 700 kbit/s).
 */
export interface SlowLink {
  ect: string[];
  rttMs: number;
  downlinkMbps: number;
}

/**
 * The default ladder: 16 … 4096, dense where phones are (320–1440 CSS px × common DPRs).
 * 37 steps, so one dimension can produce at most 38 distinct values (37 + "original").
 */
export const DEFAULT_LADDER: number[] = [
  16, 32, 48, 64, 96, 128, 160, 192, 256, 320, 360, 375, 390, 414, 430, 480, 540, 600, 640, 720, 750, 768,
  828, 900, 960, 1024, 1080, 1170, 1242, 1290, 1440, 1600, 1920, 2048, 2560, 3072, 4096,
];

export const DEFAULT_PRESETS: Record<string, Record<string, string>> = {
  thumb: { w: '256' },
  mobile: { w: '828' },
  full: { w: '1920' },
};

/** The default byte budgets (KB): 16 steps, dense where phone previews are (10–100 KB). */
export const DEFAULT_BUDGETS: number[] = [
  5, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000,
];

/** Crop edges are multiples of this many per-mille (1 %), so one crop axis has at most 101 values. */
export const CROP_GRID = 10;

export const DEFAULT_GRAMMAR_CONFIG: GrammarConfig = {
  version: 'v1',
  ladder: DEFAULT_LADDER,
  presets: DEFAULT_PRESETS,
  autoFormats: ['avif', 'webp'],
  alphaExtensions: ['png', 'gif', 'webp', 'avif'],
  budgets: DEFAULT_BUDGETS,
  slowLink: { ect: ['slow-2g', '2g', '3g'], rttMs: 270, downlinkMbps: 0.7 },
};

/**
 * How long after `exp` a link is still served: covers a signer whose clock runs behind the
 * edge's (unsynchronised VMs and phones drift seconds to tens of seconds) and the request's own
 * transit, and is short next to any useful link lifetime (minutes or more).
 */
export const EXP_SKEW_SECONDS = 30;

// One constant per limit the edge bundle uses (a short name each once minified), gathered in LIMITS.
export const MAX_KEY_BYTES = 1024;
export const MAX_BUDGET_KB = 10000;
export const MAX_PARAMS = 16;
export const MAX_ECHO_CHARS = 64;
export const MAX_ACCEPT_CHARS = 4096;

/** Hard bounds of the grammar itself, whatever the configuration says. */
export const LIMITS = {
  maxKeyBytes: MAX_KEY_BYTES,
  maxLadderSize: 4096,
  maxLadderSteps: 64,
  maxBudgetSteps: 32,
  maxBudgetKb: MAX_BUDGET_KB,
  maxPresets: 64,
  maxParams: MAX_PARAMS,
  maxEchoChars: MAX_ECHO_CHARS,
  maxAcceptChars: MAX_ACCEPT_CHARS,
};

export type PresetParams = QueryParam[];
