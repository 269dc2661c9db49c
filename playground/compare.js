// The 1:1 comparison: the original and the variant stacked over the same region, the original
// left of a draggable line and the variant right of it, at 100 % (one variant pixel on one
// screen pixel) or 200 % (each pixel a 2 × 2 block, image-rendering: pixelated). Both layers get
// the same size and the same whole-pixel offset, so a pixel of one sits exactly on the same
// pixel of the other. Keyboard: on the line ←/→ move the split (Shift: 10 %, Home/End); two
// range inputs move the view. Pointer: drag the line, drag the picture.

const clamp = (n, lo, hi) => Math.min(hi, Math.max(lo, n));

export function createCompare(el) {
  const { view, original, variant, layer, handle, zoom, panX, panY, region, note } = el;
  const state = { w: 0, h: 0, zoom: 1, split: 0.5, x: 0, y: 0, centre: false };

  const scale = () => state.zoom / (window.devicePixelRatio || 1); // CSS px per variant pixel
  const visible = () => ({ w: view.clientWidth / scale(), h: view.clientHeight / scale() });

  function render() {
    if (!state.w || view.hidden) return;
    const s = scale();
    // The frame is the picture's size at 100 % (at most the page's width and 384 px high) at
    // every zoom: 200 % shows a quarter of the region, twice as large.
    const dpr = window.devicePixelRatio || 1;
    view.style.maxWidth = `${state.w / dpr}px`;
    view.style.height = `${Math.min(state.h / dpr, 384)}px`;
    const seen = visible();
    if (state.centre) {
      state.x = (state.w - seen.w) / 2;
      state.y = (state.h - seen.h) / 2;
      state.centre = false;
    }
    state.x = Math.round(clamp(state.x, 0, Math.max(0, state.w - seen.w)));
    state.y = Math.round(clamp(state.y, 0, Math.max(0, state.h - seen.h)));
    for (const img of [original, variant]) {
      img.style.width = `${state.w * s}px`;
      img.style.height = `${state.h * s}px`;
      img.style.transform = `translate(${-state.x * s}px, ${-state.y * s}px)`;
    }
    view.classList.toggle('zoomed', state.zoom > 1);
    const at = Math.round(state.split * view.clientWidth);
    layer.style.clipPath = `inset(0 0 0 ${at}px)`;
    handle.style.left = `${at}px`;
    const pct = Math.round(state.split * 100);
    handle.setAttribute('aria-valuenow', String(pct));
    handle.setAttribute('aria-valuetext', `original left of ${pct} %, variant right`);
    const x1 = Math.min(state.w, Math.round(state.x + seen.w));
    const y1 = Math.min(state.h, Math.round(state.y + seen.h));
    panX.max = String(Math.max(0, Math.round(state.w - seen.w)));
    panY.max = String(Math.max(0, Math.round(state.h - seen.h)));
    panX.value = String(state.x);
    panY.value = String(state.y);
    region.textContent =
      `Showing x ${state.x}–${x1}, y ${state.y}–${y1} of ${state.w} × ${state.h} px at ${state.zoom * 100} %; ` +
      `original left of the line (${pct} %), variant right.`;
  }

  function zoomTo(level) {
    const before = visible();
    const cx = state.x + before.w / 2;
    const cy = state.y + before.h / 2;
    state.zoom = level;
    const after = visible();
    state.x = cx - after.w / 2;
    state.y = cy - after.h / 2;
    render();
  }

  /**
   * Shows `originalUrl` and `variantUrl` (the variant `w` × `h`, the original `ow` × `oh`; `label`
   * names the original layer: the whole original, or the crop region a crop variant was made of).
   * A variant of another shape (fit=cover or fill) has no same region to compare: said, not shown.
   */
  function show(originalUrl, variantUrl, w, h, ow, oh, label = 'The original') {
    const what = label.replace(/^The /, 'the ');
    if (Math.abs(w / h - ow / oh) > 0.01 * (w / h)) {
      hide(
        `The variant (${w} × ${h}) has another shape than ${what} (${ow} × ${oh}): it is cropped or ` +
          'stretched, so there is no same region to compare side by side.',
      );
      return;
    }
    view.hidden = false;
    note.textContent =
      w === ow
        ? `Same size: every pixel of ${what} sits on the same pixel of the variant.`
        : `${label} (${ow} × ${oh}) is drawn at the variant's size, scaled by the browser.`;
    if (state.w !== w || state.h !== h) {
      state.w = w;
      state.h = h;
      state.centre = true; // a new picture starts on its middle
    }
    original.src = originalUrl;
    variant.src = variantUrl;
    render();
  }

  /** No comparison (`why` says so), e.g. an original this browser cannot show. */
  function hide(why) {
    view.hidden = true;
    region.textContent = '';
    note.textContent = why;
  }

  let drag;
  handle.addEventListener('pointerdown', (event) => {
    event.preventDefault();
    event.stopPropagation();
    handle.setPointerCapture(event.pointerId);
    handle.focus();
    drag = { kind: 'split' };
  });
  view.addEventListener('pointerdown', (event) => {
    if (event.target === handle) return;
    event.preventDefault();
    view.setPointerCapture(event.pointerId);
    drag = { kind: 'pan', cx: event.clientX, cy: event.clientY, x: state.x, y: state.y };
  });
  const move = (event) => {
    if (!drag) return;
    if (drag.kind === 'split') {
      const box = view.getBoundingClientRect();
      state.split = clamp((event.clientX - box.left) / box.width, 0, 1);
    } else {
      state.x = drag.x - (event.clientX - drag.cx) / scale();
      state.y = drag.y - (event.clientY - drag.cy) / scale();
    }
    render();
  };
  const stop = () => {
    drag = undefined;
  };
  for (const target of [handle, view]) {
    target.addEventListener('pointermove', move);
    target.addEventListener('pointerup', stop);
    target.addEventListener('pointercancel', stop);
  }

  handle.addEventListener('keydown', (event) => {
    const step = event.shiftKey ? 0.1 : 0.01;
    const to = {
      ArrowLeft: state.split - step,
      ArrowRight: state.split + step,
      PageDown: state.split - 0.1,
      PageUp: state.split + 0.1,
      Home: 0,
      End: 1,
    }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    event.stopPropagation();
    state.split = clamp(Math.round(to * 100) / 100, 0, 1);
    render();
  });
  panX.addEventListener('input', () => {
    state.x = Number(panX.value);
    render();
  });
  panY.addEventListener('input', () => {
    state.y = Number(panY.value);
    render();
  });
  zoom.addEventListener('change', () => zoomTo(Number(zoom.value)));
  window.addEventListener('resize', render);
  return { show, hide, render };
}
