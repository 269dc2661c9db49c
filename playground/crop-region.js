// The comparison's original layer for a crop variant (app.js): the region of the original the
// variant was made from, cut in the page the way the origin cuts it.

/**
 * The region of the original a crop variant was made from (its key's `crop-x-y-w-h`, per-mille,
 * rounded outward to whole pixels as the origin does), drawn alone: the comparison's original
 * layer. The whole original when the key has no crop.
 */
let regionUrl = ''; // the last crop region's object URL, revoked when the next is made

export async function croppedOriginal(img, variantKey, width, height) {
  const m = /\/crop-(\d+)-(\d+)-(\d+)-(\d+)\./.exec(variantKey);
  if (!m) return { url: img.src, width, height, label: 'The original' };
  const [x, y, w, h] = m.slice(1).map(Number);
  const left = Math.min(width - 1, Math.floor((x * width) / 1000));
  const top = Math.min(height - 1, Math.floor((y * height) / 1000));
  const right = Math.max(left + 1, Math.min(width, Math.ceil(((x + w) * width) / 1000)));
  const bottom = Math.max(top + 1, Math.min(height, Math.ceil(((y + h) * height) / 1000)));
  const canvas = document.createElement('canvas');
  canvas.width = right - left;
  canvas.height = bottom - top;
  canvas
    .getContext('2d')
    .drawImage(img, left, top, canvas.width, canvas.height, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((ok) => canvas.toBlob(ok, 'image/png'));
  if (regionUrl) URL.revokeObjectURL(regionUrl);
  regionUrl = URL.createObjectURL(blob);
  return {
    url: regionUrl,
    width: canvas.width,
    height: canvas.height,
    label: 'The crop region of the original',
  };
}
