// What a variant's key and its x-litepix-quality header say about it: which constraint set its
// quality (and size), and whether it kept to its byte budget.

/** With a budget in the key: whether the bytes kept to it (an origin that ignores budgets is said so). */
export function budgetFact(key, bytes) {
  const kb = /(?:^|[./])kb(\d+)\./.exec(key)?.[1];
  if (!kb) return [];
  const limit = Number(kb) * 1024;
  const over = bytes - limit;
  return [
    [
      'Budget',
      over <= 0
        ? `within ${kb} KB (${limit.toLocaleString('en')} B), ${(-over).toLocaleString('en')} B to spare`
        : `over ${kb} KB (${limit.toLocaleString('en')} B) by ${over.toLocaleString('en')} B: this stack's origin did not apply the budget`,
    ],
  ];
}

/** Which constraint set the variant's quality (and size), from its key and its x-litepix-quality header. */
export function constraint(key, quality, headers) {
  const tokens = key.split('/').pop().split('.'); // e.g. w828.qauto.kb50.avif
  const q = tokens.find((t) => /^q(auto|lite|\d+)$/.test(t))?.slice(1);
  const kb = tokens.find((t) => /^kb\d+$/.test(t))?.slice(2);
  const text =
    q === 'lite'
      ? `the lite profile (${[headers['save-data'] && 'Save-Data: on', headers.ect && `ECT: ${headers.ect}`].filter(Boolean).join(', ') || 'a preset'})`
      : q === 'auto'
        ? 'the perceptual target (q=auto)'
        : q
          ? `the URL's quality (q=${q})`
          : 'the format (lossless)';
  if (!kb) return text;
  // The origin's header with a budget: `…; budget=50KB; won=quality|budget[; stepped=828-640]`.
  const won = /\bwon=(\w+)/.exec(quality)?.[1];
  const stepped = /\bstepped=(\d+)-(\d+)/.exec(quality);
  if (won === 'budget') {
    return `the ${kb} KB budget: quality lowered to fit${stepped ? `, and the size stepped down the ladder from ${stepped[1]} to ${stepped[2]}` : ''}`;
  }
  return `${text}; ${won === 'quality' ? 'it fitted' : 'within'} the ${kb} KB budget`;
}
