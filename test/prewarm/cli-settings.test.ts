import { describe, expect, it } from 'vitest';
import { portSetting, queueFlag } from '../../cli/settings.ts';
import { UsageError } from '../../cli/usage-error.ts';

describe('the CLI settings (cli/settings.ts)', () => {
  it('reads the queue flags, with their defaults when absent', () => {
    expect(queueFlag('worker', '--lanes', undefined)).toBe(2);
    expect(queueFlag('worker', '--batch', '10')).toBe(10);
    expect(queueFlag('prewarm', '--units-per-message', undefined)).toBe(10);
    expect(queueFlag('prewarm', '--message-bytes', '1024')).toBe(1024);
  });

  it.each([
    ['worker', '--lanes', '0', 'worker: Invalid --lanes "0": expected an integer from 1 to 16'],
    ['worker', '--batch', '11', 'worker: Invalid --batch "11": expected an integer from 1 to 10'],
    [
      'prewarm',
      '--units-per-message',
      '2.5',
      'prewarm: Invalid --units-per-message "2.5": expected an integer from 1 to 1000',
    ],
    [
      'prewarm',
      '--message-bytes',
      '1023',
      'prewarm: Invalid --message-bytes "1023": expected an integer from 1024 to 1048576',
    ],
  ] as const)(
    '%s refuses %s %s as a usage error naming the flag, the value and the range',
    (command, flag, raw, message) => {
      expect(() => queueFlag(command, flag, raw)).toThrow(UsageError);
      expect(() => queueFlag(command, flag, raw)).toThrow(message);
    },
  );

  it('reads a port, "" as unset, and refuses one out of range', () => {
    expect(portSetting('LITEPIX_S3_PORT', '4600', 4569)).toBe(4600);
    expect(portSetting('LITEPIX_S3_PORT', '', 4569)).toBe(4569);
    expect(portSetting('PORT', '0', 8080)).toBe(0);
    expect(() => portSetting('LITEPIX_SQS_PORT', '65536', 4570)).toThrow(
      'Invalid LITEPIX_SQS_PORT "65536": expected a port from 0 to 65535',
    );
    expect(() => portSetting('PORT', '-1', 8080)).toThrow(
      'Invalid PORT "-1": expected a port from 0 to 65535',
    );
  });
});
