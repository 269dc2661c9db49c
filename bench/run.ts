/**
 * `npm run bench`: runs each part and writes bench/results/<part>.json plus a summary.
 * `npm run bench -- edge` runs one part.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBudgetBench } from './budget.ts';
import { runEdgeBench } from './edge.ts';
import { runOriginBench } from './origin.ts';
import { runPrewarmBench } from './prewarm.ts';
import { runQueueBench } from './queue.ts';
import { runReliabilityBench } from './reliability.ts';
import { runVariantsBench } from './variants.ts';

const resultsDir = resolve(dirname(fileURLToPath(import.meta.url)), 'results');
const parts: Record<string, () => Promise<unknown> | unknown> = {
  edge: () => runEdgeBench(),
  origin: () => runOriginBench(),
  reliability: () => runReliabilityBench(),
  prewarm: () => runPrewarmBench(),
  queue: () => runQueueBench(),
  variants: () => runVariantsBench(),
  budget: () => runBudgetBench(),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in parts));
if (unknown.length > 0) {
  console.error(`Unknown bench part(s): ${unknown.join(', ')}. Expected: ${Object.keys(parts).join(', ')}`);
  process.exit(2);
}
mkdirSync(resultsDir, { recursive: true });
for (const name of wanted.length > 0 ? wanted : Object.keys(parts)) {
  const result = await (parts[name] as () => unknown)();
  const record = { part: name, date: new Date().toISOString(), node: process.version, result };
  writeFileSync(resolve(resultsDir, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`${name}:`, JSON.stringify(result, null, 2));
}
