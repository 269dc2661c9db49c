/**
 * s3rver in its own process for the pre-warm bench, so the CPU it spends serving S3 can be
 * measured apart from the pipeline's (/proc/<pid>/stat). Prints `{"port":n}` once listening;
 * SIGTERM closes it and removes its data.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

const buckets = process.argv.slice(2);
const directory = await mkdtemp(join(tmpdir(), 'litepix-bench-s3-'));
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
const address = await server.run();
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
const stop = async () => {
  await server.close();
  await rm(directory, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
