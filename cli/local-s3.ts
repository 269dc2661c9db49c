/** The local stack's S3 (s3rver): the only credentials it accepts. Kept apart from dev-stack.ts so
 * commands that only talk to it (upload, prewarm) do not load miniflare. */
export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
