/**
 * `npm start` until the local CDN lands (local S3 + origin + the edge in miniflare): builds the
 * edge bundle and says what is and is not there yet, instead of failing obscurely.
 */
import { buildViewerBundle, readEdgeConfig, VIEWER_BUNDLE } from './build.ts';

const bytes = await buildViewerBundle(readEdgeConfig());
console.log(`litepix: built ${VIEWER_BUNDLE} (${bytes} bytes).`);
console.log(
  'litepix: the local CDN (npm start serving http://127.0.0.1:8080) is not built yet; see the README status.',
);
process.exitCode = 1;
