/**
 * Lines of a byte stream, split on 0x0A with a byte cap per line that is enforced while
 * reading: the bytes of a line past its cap are counted and dropped, never buffered, so one
 * line of 600 MiB costs at most the cap (plus a chunk) of memory, not a 600 MiB string. (The
 * readline module buffers a whole line before the caller can look at its length.)
 */

export interface Line {
  /** 1-based line number in the stream. */
  number: number;
  /** Bytes of the line, without its "\n" (counted to the end even when over the cap). */
  bytes: number;
  /** The line as UTF-8 text without a trailing "\r"; undefined when it was over the cap. */
  text: string | undefined;
}

export interface LineReader {
  /** The next line, at most `maxBytes` of it kept; undefined at the end of the stream. */
  next(maxBytes: number): Promise<Line | undefined>;
}

export function lineReader(input: AsyncIterable<Buffer | string>): LineReader {
  const chunks = input[Symbol.asyncIterator]();
  let chunk: Buffer = Buffer.alloc(0);
  let pos = 0;
  let ended = false;
  let number = 0;
  return {
    async next(maxBytes) {
      const parts: Buffer[] = [];
      let bytes = 0;
      let kept = true;
      for (;;) {
        if (pos >= chunk.length) {
          const r = ended ? undefined : await chunks.next();
          if (r === undefined || r.done) {
            ended = true;
            if (bytes === 0) return undefined; // nothing after the last "\n"
            break;
          }
          chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
          pos = 0;
          continue;
        }
        const nl = chunk.indexOf(0x0a, pos);
        const end = nl < 0 ? chunk.length : nl;
        bytes += end - pos;
        if (kept && bytes > maxBytes) {
          kept = false;
          parts.length = 0;
        } else if (kept && end > pos) parts.push(chunk.subarray(pos, end));
        pos = end + 1;
        if (nl >= 0) break;
      }
      number++;
      let text: string | undefined;
      if (kept) {
        text = Buffer.concat(parts).toString('utf8');
        if (text.endsWith('\r')) text = text.slice(0, -1);
      }
      return { number, bytes, text };
    },
  };
}
