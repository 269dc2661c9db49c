/**
 * The CLI's own settings (valibot, via origin-fn/settings-schema.ts): where the local stack is
 * (CLI_ENV_SETTINGS) and the queue path's flags (QUEUE_FLAGS). Their ranges, defaults and
 * descriptions live here; docs/configuration.md is generated from them (npm run docs:config).
 * The pre-warm settings the CLI passes on are prewarm/config.ts's.
 */
import * as v from 'valibot';
import { envInteger, readSetting, type SettingsGroup, setting } from '../origin-fn/settings-schema.ts';
import { DEFAULT_MESSAGE_BYTES, DEFAULT_UNITS_PER_MESSAGE } from '../prewarm/queue-message.ts';
import { UsageError } from './usage-error.ts';

export const DEFAULT_CDN_PORT = 8080;
export const DEFAULT_S3_PORT = 4569;
export const DEFAULT_SQS_PORT = 4570;

function port(fallback: number, description: string, flag: string) {
  return setting(v.pipe(v.string(), v.regex(/^[0-9]+$/), v.transform(Number), v.maxValue(65535)), fallback, {
    description,
    allowed: 'a port from 0 to 65535',
    flag,
  });
}

/** Where the CLI finds the local stack (`litepix dev`, `npm start`) and, with --aws, the queue. */
export const CLI_ENV_SETTINGS = {
  PORT: port(DEFAULT_CDN_PORT, "the local CDN's port (`litepix dev`)", '--port'),
  LITEPIX_S3_PORT: port(
    DEFAULT_S3_PORT,
    "the local stack's S3 (without `--aws`; `--aws` uses the AWS environment)",
    '--s3-port',
  ),
  LITEPIX_SQS_PORT: port(
    DEFAULT_SQS_PORT,
    "the local stack's pre-warm queue (without `--aws`)",
    '--sqs-port',
  ),
  LITEPIX_DATA_DIR: setting(v.string(), '.litepix', {
    description:
      "where the local buckets and cache live; its stack.json tells the other commands the running stack's ports",
    allowed: 'a directory',
    flag: '--data-dir',
  }),
  LITEPIX_PREWARM_QUEUE_URL: setting(v.string(), undefined, {
    description: "the work queue of `prewarm --queue` and `worker`; on AWS the stack's `PrewarmQueueUrl`",
    allowed: 'an SQS queue URL',
    shown: "the local stack's queue (`--aws`: required)",
    flag: '--queue <url>',
  }),
} satisfies SettingsGroup;

/** Flags of the queue path: `litepix worker` and `litepix prewarm --queue`. */
export const QUEUE_FLAGS = {
  '--lanes': envInteger(1, 16, 2, '`litepix worker`: batches in flight at once (CPU stays at --concurrency)'),
  '--batch': envInteger(1, 10, 1, "`litepix worker`: messages per receive (as the Lambda's batch size)"),
  '--units-per-message': envInteger(
    1,
    1000,
    DEFAULT_UNITS_PER_MESSAGE,
    '`prewarm --queue`: Data Units packed per job message',
  ),
  '--message-bytes': envInteger(
    1024,
    1024 * 1024,
    DEFAULT_MESSAGE_BYTES,
    "`prewarm --queue`: largest message body (capped by the queue's own limit)",
  ),
} satisfies SettingsGroup;

/** A port variable's value, or the fallback when unset (UsageError naming it otherwise). */
export function portSetting(name: string, raw: string | undefined, fallback: number): number {
  return readSetting(name, port(fallback, '', ''), raw, {
    emptyIsUnset: true,
    error: (message) => new UsageError(message),
  });
}

/** A queue flag's value (`command`: the command named in the message). */
export function queueFlag(command: string, name: keyof typeof QUEUE_FLAGS, raw: string | undefined): number {
  return readSetting(name, QUEUE_FLAGS[name], raw, {
    error: (message) => new UsageError(`${command}: ${message}`),
  });
}
