// The comparison's original layer for a crop variant (app.js): the region of the original the
// variant was made from, as `GET api/url` reports it (the origin's own cropRegion), cut out in
// the page.

let regionUrl = ''; // the last crop region's object URL, revoked when the next is made

/**
 * `region` ({ left, top, width, height } in pixels of the original as displayed, or null) drawn
 * alone from `img`; the whole original (`width` × `height`) when there is no region.
 */
export async function croppedOriginal(img, region, width, height) {
  if (!region) return { url: img.src, width, height, label: 'The original' };
  const canvas = document.createElement('canvas');
  canvas.width = region.width;
  canvas.height = region.height;
  canvas
    .getContext('2d')
    .drawImage(img, region.left, region.top, region.width, region.height, 0, 0, region.width, region.height);
  const blob = await new Promise((ok) => canvas.toBlob(ok, 'image/png'));
  if (regionUrl) URL.revokeObjectURL(regionUrl);
  regionUrl = URL.createObjectURL(blob);
  return {
    url: regionUrl,
    width: region.width,
    height: region.height,
    label: 'The crop region of the original',
  };
}
