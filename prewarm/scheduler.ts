/**
 * Scheduling: a FIFO limiter (at most `n` tasks at once) and retries with exponential backoff
 * and full jitter for transient faults (storage 503s, dropped connections). Permanent faults
 * (missing original, not an image) are never retried.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isTransient } from './errors.ts';

export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  readonly active: number;
  readonly queued: number;
}

export function createLimiter(n: number): Limiter {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`Invalid concurrency ${n}: expected an integer ≥ 1`);
  let active = 0;
  const waiting: Array<() => void> = [];
  const next = () => {
    active--;
    const wake = waiting.shift();
    if (wake) {
      active++;
      wake();
    }
  };
  return {
    get active() {
      return active;
    },
    get queued() {
      return waiting.length;
    },
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active < n) active++;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        next();
      }
    },
  };
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First backoff; doubled each time, randomised (full jitter), capped at 20× this. */
  baseDelayMs: number;
  /** Called before each retry (for logs and counters). */
  onRetry?: ((err: unknown, attempt: number) => void) | undefined;
}

export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= options.attempts || !isTransient(err)) throw err;
      options.onRetry?.(err, attempt);
      const cap = Math.min(options.baseDelayMs * 2 ** (attempt - 1), options.baseDelayMs * 20);
      await sleep(Math.round(Math.random() * cap));
    }
  }
}
