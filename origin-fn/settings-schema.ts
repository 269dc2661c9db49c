/**
 * The settings schemas' building blocks (valibot), shared by the origin, pre-warm, the CLI and
 * the stack: a setting is a valibot schema whose pipe carries its one-line description and, as
 * metadata, what it allows and its default as documented. `readSettings` parses a group of them
 * into a typed object and names the setting, the bad value and what is allowed when one fails;
 * `settingRows` gives the same facts to scripts/config-docs.ts for docs/configuration.md.
 *
 * Never imported by edge-fn/: the CloudFront bundle stays dependency-free (it has its own checks).
 */
import * as v from 'valibot';

/** What a setting's docs row shows besides its description. */
export interface SettingMeta {
  /** What is allowed, as the error message says it: "an integer from 1 to 64". */
  allowed: string;
  /** The default as documented ("—" for none). */
  shown: string;
  /** `shown` is the default value itself (docs set it as code), not words about it. */
  literal: boolean;
  /** The CLI flag that sets it too, if any. */
  flag?: string;
  /** Never echo the value in an error (secrets, or a value the message already quotes). */
  hideValue?: boolean;
}

/** One setting: a valibot schema (input: an env string, or a JSON value for the stack). */
export type Setting<T = unknown> = v.GenericSchema<unknown, T>;
export type SettingsGroup = Record<string, Setting>;
export type SettingsOf<G extends SettingsGroup> = { [K in keyof G]: v.InferOutput<G[K]> };

/**
 * A setting: `inner` checks a given value (its actions' messages say what is expected, else
 * `allowed` is used), `fallback` is used when the value is absent.
 */
export function setting<TIn, TOut, D extends TOut | undefined>(
  inner: v.GenericSchema<TIn, TOut>,
  fallback: D,
  doc: { description: string; allowed: string; shown?: string; flag?: string; hideValue?: boolean },
): Setting<TOut | D> {
  const meta: SettingMeta = {
    allowed: doc.allowed,
    shown: doc.shown ?? (fallback === undefined ? '—' : shownValue(fallback)),
    literal: doc.shown === undefined && fallback !== undefined,
    ...(doc.flag ? { flag: doc.flag } : {}),
    ...(doc.hideValue ? { hideValue: true } : {}),
  };
  return v.pipe(
    // Not v.optional(inner, fallback): valibot runs a default through `inner`, which takes the
    // input form (an env string) while the fallback is already the output (a number).
    v.optional(inner),
    v.transform((value) => (value === undefined ? fallback : value)),
    v.description(doc.description),
    v.metadata({ ...meta }),
  ) as Setting<TOut | D>;
}

function shownValue(value: unknown): string {
  if (typeof value === 'string') return value === '' ? '""' : value;
  return JSON.stringify(value);
}

export function settingMeta(s: Setting): SettingMeta {
  return v.getMetadata(s) as unknown as SettingMeta;
}

export function settingDescription(s: Setting): string {
  return v.getDescription(s) ?? '';
}

export interface ReadOptions {
  /** How the setting is named in messages: `LITEPIX_X`, `litepix.x`. */
  label?: (name: string) => string;
  /** Env groups: "" counts as unset (as `X=` in a shell or a Lambda console). */
  emptyIsUnset?: boolean;
  error: (message: string) => Error;
}

/** Parses `values` with every setting of `group`; the first bad one throws `options.error`. */
export function readSettings<G extends SettingsGroup>(
  group: G,
  values: Record<string, unknown>,
  options: ReadOptions,
): SettingsOf<G> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(group)) {
    out[name] = readSetting(name, schema, values[name], options);
  }
  return out as SettingsOf<G>;
}

/** Parses one value with one setting (a flag, a stack field), with the same messages. */
export function readSetting<T>(name: string, schema: Setting<T>, raw: unknown, options: ReadOptions): T {
  const value = options.emptyIsUnset && raw === '' ? undefined : raw;
  const meta = settingMeta(schema);
  const result = v.safeParse(schema, value, { abortEarly: true, message: `expected ${meta.allowed}` });
  if (result.success) return result.output;
  const label = options.label ? options.label(name) : name;
  const shown = meta.hideValue ? '' : ` ${JSON.stringify(value)}`;
  throw options.error(`Invalid ${label}${shown}: ${result.issues[0].message}`);
}

/** The docs rows of a group: name, flag, default, allowed, description. */
export function settingRows(
  group: SettingsGroup,
): Array<{ name: string } & SettingMeta & { description: string }> {
  return Object.entries(group).map(([name, s]) => ({
    name,
    ...settingMeta(s),
    description: settingDescription(s),
  }));
}

// --- Env settings (strings) ---------------------------------------------------------------

const DIGITS = /^[0-9]+$/;

/** An integer env setting from `min` to `max`. */
export function envInteger(min: number, max: number, fallback: number, description: string, extra?: Extra) {
  return setting(
    v.pipe(
      v.string(),
      v.regex(DIGITS),
      v.transform(Number),
      v.safeInteger(),
      v.minValue(min),
      v.maxValue(max),
    ),
    fallback,
    { description, allowed: `an integer from ${min} to ${max}`, ...extra },
  );
}

/** A decimal env setting from `min` to `max` ("1", "0.5"). */
export function envDecimal(min: number, max: number, fallback: number, description: string, extra?: Extra) {
  return setting(
    v.pipe(v.string(), v.regex(/^[0-9]+(\.[0-9]+)?$/), v.transform(Number), v.minValue(min), v.maxValue(max)),
    fallback,
    { description, allowed: `a number from ${min} to ${max}`, ...extra },
  );
}

/** "true" or "false", nothing else ("yes", "1" are refused rather than read as false). */
export function envBoolean(fallback: boolean, description: string, extra?: Extra) {
  return setting(
    v.pipe(
      v.picklist(['true', 'false']),
      v.transform((s) => s === 'true'),
    ),
    fallback,
    { description, allowed: '"true" or "false"', ...extra },
  );
}

const DURATIONS = 'a whole number and s, m, h or d (30s, 15m, 1h, 7d)';

/** A duration (`parse`: sign-url.ts `parseDuration`, `30s`, `15m`, `1h`, `7d`) as seconds; no default. */
export function envDuration(parse: (text: string) => number, description: string, extra?: Extra) {
  return setting(
    v.pipe(
      v.string(),
      v.rawTransform(({ dataset, addIssue, NEVER }) => {
        try {
          return parse(dataset.value);
        } catch {
          addIssue({ message: `expected ${DURATIONS}` });
          return NEVER;
        }
      }),
    ),
    undefined,
    { description, allowed: DURATIONS, ...extra },
  );
}

/** One of `allowed`. */
export function envChoice<const T extends string>(
  allowed: readonly T[],
  fallback: T,
  description: string,
  extra?: Extra & { allowed?: string },
) {
  return setting(v.picklist(allowed), fallback, {
    description,
    allowed: `one of ${allowed.join(', ')}`,
    ...extra,
  });
}

/** A text setting matching `pattern`; `allowed` says what it is. */
export function envText<D extends string | undefined>(
  pattern: RegExp,
  fallback: D,
  description: string,
  extra: Extra & { allowed: string },
) {
  return setting(v.pipe(v.string(), v.regex(pattern)), fallback, { description, ...extra });
}

type Extra = { shown?: string; flag?: string; hideValue?: boolean };

/** A comma-separated list: trimmed, empty items dropped. */
export function commaList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
