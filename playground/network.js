// What a slow connection pays for an image: the download time of one request at the rates of
// well-known throttling profiles, time = RTT + bytes × 8 ÷ bandwidth (one round trip for the
// request, then the bytes at the link's rate; no TCP slow start, no queueing: a floor, not a
// forecast). The profiles and where their numbers come from:
// - Chrome DevTools' "Fast 3G" (its current "Slow 4G"): 1.6 Mbit/s × 0.9 down, 150 ms × 3.75 of
//   latency (front_end/core/sdk/NetworkManager.ts);
// - Chrome DevTools' "Slow 3G" (its current "3G"): 500 kbit/s × 0.8 down, 400 ms × 5 of latency
//   (same file);
// - WebPageTest's "2G": 280 kbit/s down, 800 ms RTT (its connection presets).

export const PROFILES = [
  { id: 'fast-3g', name: 'Fast 3G', source: 'Chrome DevTools', bitsPerSecond: 1_440_000, rttMs: 562.5 },
  { id: 'slow-3g', name: 'Slow 3G', source: 'Chrome DevTools', bitsPerSecond: 400_000, rttMs: 2000 },
  { id: '2g', name: '2G', source: 'WebPageTest', bitsPerSecond: 280_000, rttMs: 800 },
];

/** Seconds to fetch `bytes` over `profile`: RTT + bytes × 8 ÷ bandwidth. */
export function downloadSeconds(bytes, profile) {
  return profile.rttMs / 1000 + (bytes * 8) / profile.bitsPerSecond;
}

function rate(bitsPerSecond) {
  return bitsPerSecond >= 1_000_000
    ? `${(bitsPerSecond / 1_000_000).toLocaleString('en')} Mbit/s`
    : `${(bitsPerSecond / 1000).toLocaleString('en')} kbit/s`;
}

/** One row per profile: its name and rates, the original's time, the variant's, the difference. */
export function renderTimes(tbody, originalBytes, variantBytes) {
  const rows = PROFILES.map((profile) => {
    const tr = document.createElement('tr');
    tr.dataset.profile = profile.id;
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = `${profile.name} (${profile.source}: ${rate(profile.bitsPerSecond)}, RTT ${profile.rttMs.toLocaleString('en')} ms)`;
    const original = downloadSeconds(originalBytes, profile);
    const variant = downloadSeconds(variantBytes, profile);
    const gain = original - variant;
    const cells = [
      ['original', `${original.toFixed(2)} s`],
      ['variant', `${variant.toFixed(2)} s`],
      ['gain', gain >= 0 ? `${gain.toFixed(2)} s sooner` : `${(-gain).toFixed(2)} s later`],
    ].map(([name, text]) => {
      const td = document.createElement('td');
      td.dataset.time = name;
      td.dataset.label = name === 'gain' ? 'Gain' : name === 'original' ? 'Original' : 'Variant';
      td.textContent = text;
      return td;
    });
    tr.append(th, ...cells);
    return tr;
  });
  tbody.replaceChildren(...rows);
}
