import { defineConfig } from 'vitest/config';

// The AWS SDK's nine-line notice about Node 22 (as cli/litepix.ts does for the commands): the
// SDK version is pinned, so it says nothing a test run can act on. Workers and children inherit it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Tests by cost, as three vitest projects (`npm test` runs them all; `npm run test:unit` and
 * friends run one):
 * - e2e: the whole local stack (s3rver + origin + workerd) or a real browser;
 * - integration: one real server or tool each (s3rver over HTTP, a local HTTP/TCP peer, the
 *   CDK synth);
 * - unit: everything else, in-process (grammar, the built bundle in vm/miniflare, transforms
 *   through real sharp).
 * A new test file that starts a server belongs in INTEGRATION (or E2E for the whole stack).
 */
const E2E = [
  'test/local/**/*.test.ts',
  'test/browser/**/*.test.ts',
  'test/prewarm/cli.test.ts',
  'test/prewarm/facts-local-cdn.test.ts',
  'test/queue/**/*.test.ts',
];
const INTEGRATION = [
  'test/origin/{budget-origin,faults,hostile-images,key-refusals,lambda,origin-handler,placeholder-origin,s3-store}.test.ts',
  'test/origin/transform-crop-origin.test.ts',
  'test/prewarm/{deep-units,facts,facts-expires,ingest,lambda,long-lines,prewarm,queue-handler}.test.ts',
  'test/infra/{lambda-asset,nag,stack-*}.test.ts',
];
const ALL = ['test/**/*.test.ts'];
const CORPUS = ['test/corpus/**'];

const shared = { testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'unit', include: ALL, exclude: [...CORPUS, ...E2E, ...INTEGRATION] } },
      { test: { ...shared, name: 'integration', include: INTEGRATION } },
      { test: { ...shared, name: 'e2e', include: E2E } },
    ],
  },
});
