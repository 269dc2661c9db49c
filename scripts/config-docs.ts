/**
 * Renders the settings tables of docs/configuration.md from the schemas (name, flag, default,
 * allowed values, description), between marker comments `<!-- config:<group> -->` and
 * `<!-- /config:<group> -->`. `npm run docs:config` rewrites them; `-- --check` only reports
 * whether they are current (exit 1 if not). test/config-docs.test.ts fails when they drift.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_ENV_SETTINGS, QUEUE_FLAGS } from '../cli/settings.ts';
import { STACK_SETTINGS } from '../infra/lib/config.ts';
import { ORIGIN_SETTINGS, TRANSFORM_SETTINGS_SCHEMA } from '../origin-fn/config.ts';
import { type SettingsGroup, settingRows } from '../origin-fn/settings-schema.ts';
import { PREWARM_ENV_SETTINGS } from '../prewarm/config.ts';

export const CONFIG_DOCS = resolve(dirname(fileURLToPath(import.meta.url)), '../docs/configuration.md');

/** Each group's marker name and schema. */
export const CONFIG_GROUPS: Record<string, SettingsGroup> = {
  origin: ORIGIN_SETTINGS,
  transform: TRANSFORM_SETTINGS_SCHEMA,
  prewarm: PREWARM_ENV_SETTINGS,
  cli: CLI_ENV_SETTINGS,
  'queue-flags': QUEUE_FLAGS,
  stack: STACK_SETTINGS,
};

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The markdown table of one group. */
export function renderTable(group: SettingsGroup): string {
  const rows = settingRows(group);
  const flags = rows.some((r) => r.flag !== undefined);
  const head = ['setting', ...(flags ? ['flag'] : []), 'default', 'allowed', 'meaning'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const cells = [
      `\`${r.name}\``,
      ...(flags ? [r.flag ? `\`${r.flag}\`` : '—'] : []),
      r.literal ? `\`${r.shown}\`` : r.shown,
      r.allowed,
      r.description,
    ];
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** `text` with every marked table replaced by the generated one; throws on a missing marker. */
export function renderConfigDocs(text: string): string {
  let out = text;
  for (const [name, group] of Object.entries(CONFIG_GROUPS)) {
    const open = `<!-- config:${name} -->`;
    const close = `<!-- /config:${name} -->`;
    const start = out.indexOf(open);
    const end = out.indexOf(close);
    if (start < 0 || end < start) {
      throw new Error(`docs/configuration.md has no ${open} … ${close} section for the ${name} settings`);
    }
    out = `${out.slice(0, start + open.length)}\n${renderTable(group)}\n${out.slice(end)}`;
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = readFileSync(CONFIG_DOCS, 'utf8');
  const rendered = renderConfigDocs(text);
  if (process.argv.includes('--check')) {
    if (rendered !== text) {
      console.error(
        'docs/configuration.md is out of date with the settings schemas: run npm run docs:config',
      );
      process.exit(1);
    }
  } else if (rendered !== text) {
    writeFileSync(CONFIG_DOCS, rendered);
    console.log('docs/configuration.md: tables regenerated');
  } else console.log('docs/configuration.md: tables current');
}
