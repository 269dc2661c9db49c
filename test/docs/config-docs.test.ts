import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readSetting, settingMeta, settingRows } from '../../origin-fn/settings-schema.ts';
import { CONFIG_DOCS, CONFIG_GROUPS, renderConfigDocs } from '../../scripts/config-docs.ts';

const READ = { emptyIsUnset: true, error: (message: string) => new Error(message) };

describe('docs/configuration.md (generated from the settings schemas)', () => {
  it('holds the tables the schemas render: run npm run docs:config after changing a setting', () => {
    const text = readFileSync(CONFIG_DOCS, 'utf8');
    expect(renderConfigDocs(text)).toBe(text);
  });

  it('refuses a docs file that lost a group’s markers', () => {
    const text = readFileSync(CONFIG_DOCS, 'utf8').replace('<!-- config:stack -->', '');
    expect(() => renderConfigDocs(text)).toThrow(
      'docs/configuration.md has no <!-- config:stack --> … <!-- /config:stack --> section for the stack settings',
    );
  });

  it.each(Object.entries(CONFIG_GROUPS))(
    'gives every %s setting a one-line description and what it allows',
    (_, group) => {
      for (const row of settingRows(group)) {
        expect(row.description, row.name).toMatch(/^\S.*\S$/);
        expect(row.description, row.name).not.toContain('\n');
        expect(row.allowed, row.name).not.toBe('');
      }
    },
  );

  it.each(Object.entries(CONFIG_GROUPS))(
    'documents %s defaults that are themselves allowed values',
    (name, group) => {
      for (const [setting, schema] of Object.entries(group)) {
        const meta = settingMeta(schema);
        if (!meta.literal) continue;
        const unset = readSetting(setting, schema, undefined, READ);
        // The env groups take the text shown; the stack JSON values (strings are shown bare).
        const given =
          name === 'stack' && /^([[{0-9]|true$|false$)/.test(meta.shown)
            ? JSON.parse(meta.shown)
            : meta.shown;
        expect(readSetting(setting, schema, given, READ), setting).toEqual(unset);
      }
    },
  );
});
