/**
 * Preloaded into the `litepix` child processes of bench/queue.ts (`node --import tsx --import
 * bench/request-counter.ts …`): counts every HTTP request the process makes, by service and
 * operation, with request and response body bytes, and its own CPU time. On exit it writes them
 * to `$LITEPIX_BENCH_COUNTS/<pid>.json`, so the bench reports counted requests, not assumed ones.
 *
 *  - SQS (JSON protocol): the operation is the `x-amz-target` header (`AmazonSQS.ReceiveMessage`);
 *  - S3 (path style): `<bucket> <METHOD>`, or `<bucket> LIST` for ListObjectsV2.
 */
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { join } from 'node:path';

export interface RequestCount {
  requests: number;
  requestBytes: number;
  responseBytes: number;
  /** Largest request or response body of one call (SQS bills each 64 KiB chunk as a request). */
  maxBytes: number;
}

export interface ProcessCounts {
  pid: number;
  argv: string[];
  cpuSeconds: number;
  counts: Record<string, RequestCount>;
}

const dir = process.env.LITEPIX_BENCH_COUNTS;
const counts: Record<string, RequestCount> = {};
const opOf = new WeakMap<ClientRequest, string>();
const bytesOf = (h: string | number | string[] | undefined) => Number(Array.isArray(h) ? h[0] : h) || 0;

function operation(request: ClientRequest): string {
  const target = request.getHeader('x-amz-target');
  if (typeof target === 'string') return `sqs ${target.replace(/^AmazonSQS\./, '')}`;
  const [path = '', query = ''] = request.path.split('?');
  const bucket = path.split('/')[1] ?? '';
  const method = /(^|&)list-type=2(&|$)/.test(query) ? 'LIST' : request.method;
  return `s3 ${bucket} ${method}`;
}

function entry(op: string): RequestCount {
  counts[op] ??= { requests: 0, requestBytes: 0, responseBytes: 0, maxBytes: 0 };
  return counts[op];
}

if (dir) {
  subscribe('http.client.request.start', (message) => {
    const { request } = message as { request: ClientRequest };
    const op = operation(request);
    opOf.set(request, op);
    const e = entry(op);
    const bytes = bytesOf(request.getHeader('content-length'));
    e.requests++;
    e.requestBytes += bytes;
    e.maxBytes = Math.max(e.maxBytes, bytes);
  });
  subscribe('http.client.response.finish', (message) => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    let op = opOf.get(request);
    if (op === undefined) return;
    const bytes = bytesOf(response.headers['content-length']);
    // An empty receive answers `{}`: counted apart (idle polling, not work).
    if (op === 'sqs ReceiveMessage' && bytes < 64) {
      entry(op).requests--;
      op = 'sqs ReceiveMessage (empty)';
      entry(op).requests++;
    }
    const e = entry(op);
    e.responseBytes += bytes;
    e.maxBytes = Math.max(e.maxBytes, bytes);
  });
  process.on('exit', () => {
    const usage = process.resourceUsage();
    const record: ProcessCounts = {
      pid: process.pid,
      argv: process.argv.slice(2),
      cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
      counts,
    };
    writeFileSync(join(dir, `${process.pid}.json`), `${JSON.stringify(record)}\n`);
  });
}
