/** Structured JSON logs (pino): one line per event, never whole events, headers or secrets. */
import { type Logger, pino } from 'pino';

export type Log = Pick<Logger, 'info' | 'warn' | 'error' | 'debug' | 'child'>;

export function createLog(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = options.level ?? process.env.LITEPIX_LOG_LEVEL ?? 'info';
  return options.destination
    ? pino({ level, base: undefined }, options.destination)
    : pino({ level, base: undefined });
}

/** Adapts pino to the store's `warn(message, fields)` shape. */
export function storeLog(log: Log) {
  return { warn: (message: string, fields: Record<string, unknown>) => log.warn(fields, message) };
}
