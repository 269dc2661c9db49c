/**
 * `litepix upload` with no local stack to talk to says where it looked and how to point it at
 * the running one (it said "upload failed (Error)").
 */
import { describe, expect, it } from 'vitest';
import { upload } from '../../cli/upload.ts';

describe('litepix upload without a local stack', () => {
  it('names the endpoint nothing answers at, and LITEPIX_DATA_DIR', async () => {
    const [outcome] = await upload({
      files: ['test/fixtures/images/jpeg-grayscale.jpg'],
      s3Endpoint: 'http://127.0.0.1:1',
      cdnBase: 'http://127.0.0.1:2',
    });
    expect(outcome).toMatchObject({
      ok: false,
      message:
        'test/fixtures/images/jpeg-grayscale.jpg: upload failed: no local stack answers at http://127.0.0.1:1. ' +
        'Start it with npm start, or, if it runs with another --data-dir, point LITEPIX_DATA_DIR at that dir ' +
        '(its stack.json says where it listens)',
    });
  });
});
