/**
 * Validates a grammar configuration once (at build time for the edge, at cold start for the
 * origin) so that the hot path never meets a bad ladder or preset.
 */
import { DEFAULT_GRAMMAR_CONFIG, type GrammarConfig, LIMITS } from './config.ts';
import { canonicalName, isError, validateValue } from './params.ts';

export class GrammarConfigError extends Error {
  override name = 'GrammarConfigError';
}

const VERSION = /^v[0-9]{1,6}$/;
/** A preset name, as the grammar (and so the stack and pre-warm settings) accept it. */
export const PRESET_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const EXTENSION = /^[a-z0-9]{1,8}$/;
/** The Network Information API's effective connection types, as the `ECT` hint sends them. */
const ECT_VALUES = ['slow-2g', '2g', '3g', '4g'];

export function resolveGrammarConfig(partial: Partial<GrammarConfig> = {}): GrammarConfig {
  const config: GrammarConfig = { ...DEFAULT_GRAMMAR_CONFIG, ...partial };
  if (!VERSION.test(config.version)) {
    throw new GrammarConfigError(`Invalid version "${config.version}": expected "v" and digits, e.g. "v1"`);
  }
  const ladder = config.ladder;
  if (!Array.isArray(ladder) || ladder.length === 0 || ladder.length > LIMITS.maxLadderSteps) {
    throw new GrammarConfigError(`Invalid ladder: expected 1 to ${LIMITS.maxLadderSteps} sizes`);
  }
  ladder.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 1 || n > LIMITS.maxLadderSize) {
      throw new GrammarConfigError(
        `Invalid ladder size ${n}: expected an integer from 1 to ${LIMITS.maxLadderSize}`,
      );
    }
    const prev = ladder[i - 1];
    if (prev !== undefined && prev >= n) {
      throw new GrammarConfigError(`Invalid ladder: sizes must be ascending, but ${prev} comes before ${n}`);
    }
  });
  const budgets = config.budgets;
  if (!Array.isArray(budgets) || budgets.length === 0 || budgets.length > LIMITS.maxBudgetSteps) {
    throw new GrammarConfigError(`Invalid budgets: expected 1 to ${LIMITS.maxBudgetSteps} sizes in KB`);
  }
  budgets.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 1 || n > LIMITS.maxBudgetKb) {
      throw new GrammarConfigError(
        `Invalid budget ${n}: expected an integer number of KB from 1 to ${LIMITS.maxBudgetKb}`,
      );
    }
    const prev = budgets[i - 1];
    if (prev !== undefined && prev >= n) {
      throw new GrammarConfigError(`Invalid budgets: sizes must be ascending, but ${prev} comes before ${n}`);
    }
  });
  const presetNames = Object.keys(config.presets);
  if (presetNames.length > LIMITS.maxPresets) {
    throw new GrammarConfigError(
      `Too many presets (${presetNames.length}): expected at most ${LIMITS.maxPresets}`,
    );
  }
  const presets: GrammarConfig['presets'] = {};
  for (const name of presetNames) {
    if (!PRESET_NAME.test(name)) {
      throw new GrammarConfigError(
        `Invalid preset name "${name}": expected lower-case letters, digits, "-" or "_"`,
      );
    }
    const canonical: Record<string, string> = {};
    for (const [param, raw] of Object.entries(config.presets[name] ?? {})) {
      const short = canonicalName(param, false);
      if (isError(short) || short === 'preset' || short === 'exp') {
        throw new GrammarConfigError(
          `Invalid preset "${name}": parameter "${param}" cannot be used in a preset`,
        );
      }
      const value = validateValue(short, String(raw), config, []);
      if (isError(value)) throw new GrammarConfigError(`Invalid preset "${name}": ${value.message}`);
      canonical[short] = value;
    }
    presets[name] = canonical;
  }
  for (const f of config.autoFormats) {
    if (f !== 'avif' && f !== 'webp') {
      throw new GrammarConfigError(`Invalid autoFormats entry "${f}": expected "avif" or "webp"`);
    }
  }
  for (const ext of config.alphaExtensions) {
    if (!EXTENSION.test(ext)) {
      throw new GrammarConfigError(
        `Invalid alphaExtensions entry "${ext}": expected a lower-case extension such as "png"`,
      );
    }
  }
  const slow = config.slowLink;
  for (const ect of slow.ect) {
    if (!ECT_VALUES.includes(ect)) {
      throw new GrammarConfigError(
        `Invalid slowLink.ect entry "${ect}": expected one of ${ECT_VALUES.join(', ')}`,
      );
    }
  }
  if (!Number.isInteger(slow.rttMs) || slow.rttMs < 0 || slow.rttMs > 60000) {
    throw new GrammarConfigError(
      `Invalid slowLink.rttMs ${slow.rttMs}: expected an integer number of ms from 0 (off) to 60000`,
    );
  }
  if (!(slow.downlinkMbps >= 0 && slow.downlinkMbps <= 10000)) {
    throw new GrammarConfigError(
      `Invalid slowLink.downlinkMbps ${slow.downlinkMbps}: expected a number of Mbit/s from 0 (off) to 10000`,
    );
  }
  return {
    ...config,
    slowLink: { ...slow, ect: [...slow.ect] },
    ladder: [...ladder],
    presets,
    budgets: [...budgets],
  };
}
