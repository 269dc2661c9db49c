/**
 * `litepix dev`'s options, from its flags, then the environment, then the defaults.
 *
 * Through npm, a flag written without `--` (`npm start --port=8081`) is kept by npm as its own
 * config and reaches the script only as `npm_config_port=8081`: such values are taken like the
 * flag (a flag after `--` still wins). Written with a space (`npm start --port 8081`), npm leaves
 * `npm_config_port=true` and passes `8081` on alone, which cannot be read back safely: refused
 * with the command that works.
 */
import { parseArgs } from 'node:util';
import type { DevOptions } from './dev-stack.ts';
import { DEFAULT_CDN_PORT, DEFAULT_S3_PORT, DEFAULT_SQS_PORT, portSetting } from './stack-file.ts';
import { UsageError } from './usage-error.ts';

/** The dev flags that take a value, with npm's name for each (dashes become underscores). */
const VALUE_FLAGS = ['port', 's3-port', 'sqs-port', 'data-dir'] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];

const npmName = (flag: string) => `npm_config_${flag.replaceAll('-', '_')}`;

/** The value npm kept for `npm start --flag=value`, if any. */
function fromNpm(flag: ValueFlag, env: NodeJS.ProcessEnv): string | undefined {
  const value = env[npmName(flag)];
  return value === undefined || value === 'true' || value === '' ? undefined : value;
}

export function readDevOptions(args: string[], env: NodeJS.ProcessEnv = process.env): DevOptions | 'help' {
  const { values, positionals } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      's3-port': { type: 'string' },
      'sqs-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'no-seed': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return 'help';
  if (positionals.length > 0) {
    const swallowed = VALUE_FLAGS.find((flag) => env[npmName(flag)] === 'true');
    if (swallowed) {
      throw new UsageError(
        `npm took --${swallowed} for itself and passed ${JSON.stringify(positionals[0])} on alone: ` +
          `write npm start -- --${swallowed} ${positionals[0]} (or --${swallowed}=${positionals[0]})`,
      );
    }
    throw new UsageError(
      `dev: unexpected argument ${JSON.stringify(positionals[0])}: litepix dev takes options only (litepix dev --help)`,
    );
  }
  const flag = (name: ValueFlag) => values[name] ?? fromNpm(name, env);
  return {
    port: portSetting('--port / PORT', flag('port') ?? env.PORT, DEFAULT_CDN_PORT),
    s3Port: portSetting(
      '--s3-port / LITEPIX_S3_PORT',
      flag('s3-port') ?? env.LITEPIX_S3_PORT,
      DEFAULT_S3_PORT,
    ),
    sqsPort: portSetting(
      '--sqs-port / LITEPIX_SQS_PORT',
      flag('sqs-port') ?? env.LITEPIX_SQS_PORT,
      DEFAULT_SQS_PORT,
    ),
    dataDir: flag('data-dir') ?? env.LITEPIX_DATA_DIR ?? '.litepix',
    originalsBucket: env.LITEPIX_ORIGINALS_BUCKET || 'litepix-originals',
    variantsBucket: env.LITEPIX_VARIANTS_BUCKET || 'litepix-variants',
    // `npm start --no-seed` reaches the script as npm_config_seed= (npm's false).
    seed: !values['no-seed'] && env.npm_config_seed !== '',
    logLevel: env.LITEPIX_LOG_LEVEL ?? 'warn',
  };
}
