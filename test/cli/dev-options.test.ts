/**
 * `litepix dev`'s options as a newcomer passes them: flags, the environment, and the forms npm
 * hands on from `npm start --port=8081` (without `--`).
 */
import { describe, expect, it } from 'vitest';
import { readDevOptions } from '../../cli/dev-options.ts';
import type { DevOptions } from '../../cli/dev-stack.ts';

const options = (args: string[], env: NodeJS.ProcessEnv = {}) => readDevOptions(args, env) as DevOptions;

describe('litepix dev options', () => {
  it('defaults to 8080, 4569, 4570, .litepix, seeded', () => {
    expect(options([])).toMatchObject({
      port: 8080,
      s3Port: 4569,
      sqsPort: 4570,
      dataDir: '.litepix',
      seed: true,
    });
  });

  it('takes flags over the environment', () => {
    expect(options(['--port', '9000', '--s3-port=9001'], { PORT: '1', LITEPIX_S3_PORT: '2' })).toMatchObject({
      port: 9000,
      s3Port: 9001,
    });
    expect(options([], { PORT: '9100', LITEPIX_DATA_DIR: '/tmp/x' })).toMatchObject({
      port: 9100,
      dataDir: '/tmp/x',
    });
  });

  it('takes npm start --port=8081 --no-seed (kept by npm as npm_config_*) like the flags', () => {
    const env = {
      npm_config_port: '8081',
      npm_config_s3_port: '4600',
      npm_config_sqs_port: '4601',
      npm_config_data_dir: '/tmp/dev',
      npm_config_seed: '',
      PORT: '1',
    };
    expect(options([], env)).toMatchObject({
      port: 8081,
      s3Port: 4600,
      sqsPort: 4601,
      dataDir: '/tmp/dev',
      seed: false,
    });
    // A flag after `--` still wins over what npm kept.
    expect(options(['--port', '9000'], env).port).toBe(9000);
  });

  it('refuses npm start --port 8081 (npm keeps the flag, passes the number on alone) with the command that works', () => {
    expect(() => readDevOptions(['8081'], { npm_config_port: 'true' })).toThrow(
      'npm took --port for itself and passed "8081" on alone: write npm start -- --port 8081 (or --port=8081)',
    );
    expect(() => readDevOptions(['4600'], { npm_config_s3_port: 'true' })).toThrow(
      'write npm start -- --s3-port 4600',
    );
  });

  it('refuses a stray argument, and a port out of range, saying what is allowed', () => {
    expect(() => readDevOptions(['now'], {})).toThrow(
      'dev: unexpected argument "now": litepix dev takes options only (litepix dev --help)',
    );
    expect(() => readDevOptions(['--port', '70000'], {})).toThrow(
      'Invalid --port / PORT "70000": expected a port from 0 to 65535',
    );
    expect(() => readDevOptions([], { npm_config_port: 'x' })).toThrow('Invalid --port / PORT "x"');
    expect(() => readDevOptions(['--bogus'], {})).toThrow(/Unknown option '--bogus'/);
  });

  it('answers help for -h and --help', () => {
    expect(readDevOptions(['-h'], {})).toBe('help');
    expect(readDevOptions(['--help'], {})).toBe('help');
  });
});
