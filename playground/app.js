// The playground page (local stack only). It asks the local server for a URL built by the
// same code as `litepix url` (and the variant key the edge makes of it), requests the variant
// twice from the local CDN with the chosen Accept, Save-Data and ECT headers (a miss, then a
// hit), and shows it beside the original, 1:1 in a split view (compare.js), with the download
// times at slow-connection rates (network.js).
import { createCompare } from './compare.js';
import { croppedOriginal } from './crop-region.js';
import { renderTimes } from './network.js';
import { budgetFact, constraint } from './variant-facts.js';

const $ = (id) => document.getElementById(id);
const form = $('controls');
const status = $('status');
const originals = new Map(); // key → { blob, format, width, height }
let sequence = 0;
const compare = createCompare({
  view: $('split'),
  original: $('split-original'),
  variant: $('split-variant'),
  layer: $('split-layer'),
  handle: $('split-handle'),
  zoom: $('zoom'),
  panX: $('pan-x'),
  panY: $('pan-y'),
  region: $('compare-region'),
  note: $('compare-note'),
});

function say(message, isError = false) {
  status.textContent = message;
  status.classList.toggle('error', isError);
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

function facts(list, rows) {
  list.replaceChildren();
  for (const [name, value] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value;
    dd.dataset.fact = name.toLowerCase().replace(/[^a-z]+/g, '-');
    list.append(dt, dd);
  }
}

// What a refused request says: the API's JSON message, else its text, else its status (never
// a JSON.parse error of its own about a body that is not JSON).
async function errorText(res) {
  const text = (await res.text().catch(() => '')).trim();
  if ((res.headers.get('content-type') || '').startsWith('application/json')) {
    try {
      const message = JSON.parse(text).message;
      if (typeof message === 'string' && message) return message;
    } catch {
      // not the JSON it says it is: show the text
    }
  }
  return text.slice(0, 300) || `HTTP ${res.status} ${res.statusText}`.trim();
}

// An error replaces the result it is about: the variant and figures of an earlier request
// are hidden, so they are never read as the answer to the new one.
function fail(message) {
  $('result').hidden = true;
  say(message, true);
}

function addOriginal(key, bytes, select = false) {
  const source = $('source');
  let option = [...source.options].find((o) => o.value === key);
  if (!option) {
    option = new Option(`${key} (${formatBytes(bytes)})`, key);
    source.add(option);
  }
  if (select) source.value = key;
}

async function loadOriginals() {
  const res = await fetch('/__litepix/api/originals');
  if (!res.ok) throw new Error(await errorText(res));
  const body = await res.json();
  for (const o of body.originals) addOriginal(o.key, o.bytes);
  const wanted = new URLSearchParams(location.search).get('key');
  if (wanted && [...$('source').options].some((o) => o.value === wanted)) $('source').value = wanted;
  if (body.originals.length === 0) say('The originals bucket is empty: upload an image.');
}

async function original(key) {
  const known = originals.get(key);
  if (known) return known;
  const res = await fetch(`/__litepix/api/original?key=${encodeURIComponent(key)}`);
  if (!res.ok) throw new Error(await errorText(res));
  const entry = {
    blob: await res.blob(),
    format: res.headers.get('x-litepix-format'),
    width: Number(res.headers.get('x-litepix-width')),
    height: Number(res.headers.get('x-litepix-height')),
  };
  originals.set(key, entry);
  return entry;
}

function variantParams() {
  const params = new URLSearchParams();
  const value = (id) => $(id).value.trim();
  if (value('w')) params.set('w', value('w'));
  if (value('h')) params.set('h', value('h'));
  if (value('fit') !== 'inside') params.set('fit', value('fit'));
  if (value('pos') !== 'center') params.set('pos', value('pos'));
  if (value('crop')) params.set('crop', value('crop'));
  if (value('q') && value('q').toLowerCase() !== 'auto') params.set('q', value('q'));
  if (value('f') !== 'auto') params.set('f', value('f'));
  if (value('dpr') !== '1') params.set('dpr', value('dpr'));
  if (value('maxkb')) params.set('maxkb', value('maxkb'));
  return params;
}

/** The request headers the image fetch sends: Accept, and Save-Data and ECT when chosen. */
function viewerHeaders() {
  const headers = { accept: $('accept').value };
  if ($('save-data').checked) headers['save-data'] = 'on';
  if ($('ect').value) headers.ect = $('ect').value;
  return headers;
}

// The grammar's byte budgets, and whether this stack's edge reads ECT (said beside the control,
// so an unchanged variant is never read as the answer to it).
async function loadConfig() {
  const res = await fetch('/__litepix/api/config');
  if (!res.ok) throw new Error(await errorText(res));
  const { budgets, supports } = await res.json();
  for (const kb of budgets) $('maxkb').add(new Option(`${kb.toLocaleString('en')} KB`, String(kb)));
  if (!supports.ect) {
    $('ect-help').textContent =
      'This edge does not read ECT yet: the header is sent, and the variant is the one without it.';
    $('ect-help').classList.add('warning');
  }
}

async function timedFetch(url, headers) {
  const t0 = performance.now();
  const res = await fetch(url, { headers, cache: 'no-store' });
  const blob = res.ok ? await res.blob() : undefined;
  return { res, blob, ms: performance.now() - t0 };
}

async function showImage(img, blob) {
  if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(blob);
  try {
    await img.decode();
    return true;
  } catch {
    return false; // e.g. TIFF: the browser cannot show it, the figures still stand
  }
}

const FIELD_OF = { width: 'w', height: 'h', quality: 'q', position: 'pos', crop: 'crop' };

function markInvalid(message) {
  for (const id of Object.values(FIELD_OF)) $(id).removeAttribute('aria-invalid');
  const name = /^Invalid (width|height|quality|position|crop)\b/.exec(message || '');
  if (name) $(FIELD_OF[name[1]]).setAttribute('aria-invalid', 'true');
}

async function update() {
  const run = ++sequence;
  const key = $('source').value;
  if (!key) return;
  say('Making the variant…');
  const source = await original(key);
  const query = variantParams();
  query.set('key', key);
  query.set('base', location.origin);
  // The original's size lets the server say which pixels a crop variant was made from.
  query.set('source-width', String(source.width));
  query.set('source-height', String(source.height));
  const headers = viewerHeaders();
  for (const name in headers) query.set(name, headers[name]);
  const built = await fetch(`/__litepix/api/url?${query}`);
  if (!built.ok) {
    const message = await errorText(built);
    markInvalid(message);
    if (run === sequence) fail(message);
    return;
  }
  markInvalid('');
  const { url, key: variantKey, region } = await built.json();
  const first = await timedFetch(url, headers);
  if (!first.res.ok) {
    if (run === sequence) fail(`${first.res.status}: ${await errorText(first.res)}`);
    return;
  }
  const second = await timedFetch(url, headers);
  if (run !== sequence) return; // a newer request has started: its answer wins
  const variant = second.blob || first.blob;
  const type = first.res.headers.get('content-type') || '';
  const saved = 1 - variant.size / source.blob.size;

  $('result').hidden = false;
  const originalShown = await showImage($('original-img'), source.blob);
  await showImage($('variant-img'), variant);
  const img = $('variant-img');
  if (originalShown) {
    const layer = await croppedOriginal($('original-img'), region, source.width, source.height);
    if (run !== sequence) return;
    compare.show(
      layer.url,
      img.src,
      img.naturalWidth,
      img.naturalHeight,
      layer.width,
      layer.height,
      layer.label,
    );
  } else {
    compare.hide(`This browser cannot show the original (${source.format.toUpperCase()}): no comparison.`);
  }
  renderTimes($('times-rows'), source.blob.size, variant.size);
  const quality = first.res.headers.get('x-litepix-quality') || 'n/a';
  facts($('original-facts'), [
    ['Dimensions', `${source.width} × ${source.height}`],
    ['Format', source.format.toUpperCase() + (originalShown ? '' : ' (this browser cannot show it)')],
    ['Bytes', `${formatBytes(source.blob.size)} (${source.blob.size.toLocaleString('en')} B)`],
  ]);
  facts($('variant-facts'), [
    ['Dimensions', `${img.naturalWidth} × ${img.naturalHeight}`],
    ['Format', type.replace('image/', '').toUpperCase()],
    ['Bytes', `${formatBytes(variant.size)} (${variant.size.toLocaleString('en')} B)`],
    ['Saved', `${(saved * 100).toFixed(1)}%`],
    ['Quality', quality],
    ['Set by', constraint(variantKey, quality, headers)],
    ...budgetFact(variantKey, variant.size),
    ['Variant key', variantKey],
    [
      'Request headers',
      Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}`)
        .join('; '),
    ],
    ['First request', `${first.res.headers.get('x-cache') || 'no x-cache'}, ${first.ms.toFixed(0)} ms`],
    ['Second request', `${second.res.headers.get('x-cache') || 'no x-cache'}, ${second.ms.toFixed(0)} ms`],
  ]);
  $('saved').textContent =
    saved >= 0 ? `${(saved * 100).toFixed(1)}% smaller` : `${(-saved * 100).toFixed(1)}% larger`;
  $('url').value = url;
  $('open').href = url;
  say(`Done: ${formatBytes(variant.size)} instead of ${formatBytes(source.blob.size)}.`);
}

async function uploadFile(file) {
  say(`Uploading ${file.name}…`);
  const res = await fetch(`/__litepix/api/upload?name=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    headers: { 'content-type': file.type || 'application/octet-stream' },
    body: file,
  });
  if (!res.ok) {
    fail(`Upload refused: ${await errorText(res)}`);
    return;
  }
  const body = await res.json();
  addOriginal(body.key, body.bytes, true);
  await update();
}

function guard(task) {
  return () => task().catch((err) => fail(`Something went wrong: ${err.message}`));
}

let timer;
form.addEventListener('submit', (event) => {
  event.preventDefault();
  guard(update)();
});
form.addEventListener('change', (event) => {
  if (event.target.id === 'file') {
    const file = event.target.files[0];
    if (file) guard(() => uploadFile(file))();
    return;
  }
  clearTimeout(timer);
  timer = setTimeout(guard(update), 150);
});
$('copy').addEventListener('click', async () => {
  const input = $('url');
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand('copy');
  }
  say('URL copied.');
});

// Data Units: pre-warm through the local stack, then show per-image savings and the rewritten units.
const unitsStatus = $('units-status');
function sayUnits(message, isError = false) {
  unitsStatus.textContent = message;
  unitsStatus.classList.toggle('error', isError);
}

function failUnits(message) {
  $('units-result').hidden = true;
  sayUnits(message, true);
}

// Each cell carries its column's name: on a phone the rows are shown as cards of label: value.
function cell(label, text) {
  const td = document.createElement('td');
  td.textContent = text;
  td.dataset.label = label;
  return td;
}

async function prewarmUnits() {
  sayUnits('Pre-warming every variant…');
  const query = new URLSearchParams({ base: location.origin, rewrite: $('rewrite').value });
  const res = await fetch(`/__litepix/api/prewarm?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: $('units-input').value,
  });
  if (!res.ok) {
    failUnits(await errorText(res));
    return;
  }
  const { totals, results } = await res.json();
  const rows = [];
  for (const { report } of results) {
    if (report.images.length === 0) {
      const tr = document.createElement('tr');
      const why = cell('Status', `failed: ${report.message}`);
      why.colSpan = 4;
      tr.append(cell('Unit', report.id ?? `#${report.seq}`), cell('Image', '—'), why);
      rows.push(tr);
    }
    for (const image of report.images) {
      const tr = document.createElement('tr');
      tr.append(
        cell('Unit', report.id ?? `#${report.seq}`),
        cell('Image', image.ref),
        cell('Status', image.status === 'failed' ? `failed: ${image.message}` : image.status),
        cell('Original', image.bytesBefore === undefined ? '—' : formatBytes(image.bytesBefore)),
        cell('Variant', image.bytesAfter === undefined ? '—' : formatBytes(image.bytesAfter)),
        cell('Saved', image.savings === undefined ? '—' : `${(image.savings * 100).toFixed(1)}%`),
      );
      rows.push(tr);
    }
  }
  $('units-rows').replaceChildren(...rows);
  $('units-output').value = results.map((r) => JSON.stringify(r.unit ?? null)).join('\n');
  $('units-result').hidden = false;
  const v = totals.variants;
  sayUnits(
    `${totals.units.done} of ${totals.units.total} units done, ${totals.units.failed} failed; ` +
      `${v.produced} variants made, ${v.existing} already there; ` +
      `${formatBytes(totals.bytesBefore)} of originals → ${formatBytes(totals.bytesAfter)} ` +
      `(${(totals.savings * 100).toFixed(1)}% saved).`,
    totals.units.failed > 0,
  );
}

$('units-form').addEventListener('submit', (event) => {
  event.preventDefault();
  prewarmUnits().catch((err) => failUnits(`Something went wrong: ${err.message}`));
});

guard(async () => {
  await loadConfig();
  await loadOriginals();
  await update();
})();
