/**
 * `litepix prewarm <file|-> --queue [url]`: sends the Data Units to the pre-warm queue as job
 * messages instead of working on them (queue-producer.ts); workers (the SQS Lambda or
 * `litepix worker`) make the variants and write the results, which `litepix prewarm status`
 * and `collect` read. Prints the job id on stdout (the only line there, for scripts) and a
 * summary on stderr. Exit: 0 every unit sent, 1 some refused (too large for a message; they
 * are in the results as failed), 2 usage, unreadable input, queue or bucket not answering.
 */
import { SingleBar } from 'cli-progress';
import { InputError, readUnits } from '../prewarm/input.ts';
import { assertJobId, newJobId } from '../prewarm/queue-message.ts';
import { produce } from '../prewarm/queue-producer.ts';
import { describeQueueError } from '../prewarm/sqs-client.ts';
import { countLines, openInput } from './prewarm.ts';
import { queueContext, resultsContext } from './queue-context.ts';
import { queueFlag } from './settings.ts';
import { UsageError } from './usage-error.ts';

export interface QueueSendFlags {
  job?: string | undefined;
  'units-per-message'?: string | undefined;
  'message-bytes'?: string | undefined;
  aws?: boolean | undefined;
}

export async function sendToQueue(
  values: QueueSendFlags,
  inputPath: string,
  queue: string | true,
): Promise<void> {
  const maxUnits = queueFlag('prewarm', '--units-per-message', values['units-per-message']);
  const wantBytes = queueFlag('prewarm', '--message-bytes', values['message-bytes']);
  let job: string;
  try {
    job = values.job === undefined ? newJobId() : assertJobId(values.job);
  } catch (err) {
    throw new UsageError(`prewarm: ${(err as Error).message}`);
  }
  const { input, inputStat } = await openInput(inputPath);
  const aws = values.aws === true;
  const { queueUrl, sqs, facts } = await queueContext(aws, queue === true ? undefined : queue);
  const { s3, results, where } = resultsContext(aws);
  try {
    try {
      await results.getManifest(job);
    } catch (err) {
      throw new UsageError(`prewarm: cannot reach the results at ${where}: ${describeQueueError(err)}`);
    }
    const maxBytes = Math.min(wantBytes, facts.maxMessageBytes);
    const bar =
      process.stderr.isTTY && inputStat
        ? new SingleBar({
            stream: process.stderr,
            format: 'prewarm → queue [{bar}] {value} units | {messages} messages',
          })
        : undefined;
    if (bar) bar.start(await countLines(inputPath), 0, { messages: 0 });
    const refused: string[] = [];
    let sent: Awaited<ReturnType<typeof produce>>;
    try {
      sent = await produce({
        sqs,
        queueUrl,
        results,
        job,
        items: readUnits(input),
        maxBytes,
        maxUnits,
        input: inputPath === '-' ? 'stdin' : inputPath,
        onRefused: (item) => refused.push(item.error?.message ?? `Data Unit ${item.seq} refused`),
        onSent: (p) => bar?.update(p.units, { messages: p.messages }),
      });
    } catch (err) {
      bar?.stop();
      if (err instanceof InputError) throw new UsageError(`prewarm: ${err.message}`);
      throw new Error(
        `prewarm: sending to ${queueUrl} failed: ${describeQueueError(err)} (job ${job}: re-run with --job ${job} to send it again; results are overwritten, not doubled)`,
      );
    }
    bar?.stop();
    if (sent.units === 0) throw new UsageError('prewarm: the input holds no Data Units');
    for (const line of refused.slice(0, 20)) process.stderr.write(`prewarm: refused: ${line}\n`);
    if (refused.length > 20) process.stderr.write(`prewarm: … and ${refused.length - 20} more refused\n`);
    const perMessage = (sent.units / sent.messages).toFixed(1);
    const kb = (sent.bytes / sent.messages / 1024).toFixed(1);
    process.stderr.write(
      `prewarm: sent ${sent.units} units in ${sent.messages} messages (${perMessage} units and ${kb} KB per message) to ${queueUrl} as job ${job}` +
        `${sent.refused.length ? `; ${sent.refused.length} refused as too large (failed in the results)` : ''}` +
        `; follow it with: litepix prewarm status ${job}${aws ? ' --aws' : ''}\n`,
    );
    process.stdout.write(`${job}\n`);
    if (sent.refused.length > 0) process.exitCode = 1;
  } finally {
    sqs.destroy();
    s3.destroy();
  }
}
