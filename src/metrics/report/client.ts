// The report page's script (runs in the browser; inlined into the HTML by html.ts, never imported
// by Node). One view state (centre u, v in image-relative units and a zoom z, 1 = fit) drives every
// viewport, so zoom and pan stay in step across LR, bicubic, each method and HR, and in the A/B view.
import type { PageData, PagePanel, PageValue } from './page-data.js';

const data = JSON.parse(document.getElementById('report-data')!.textContent!) as PageData;
const app = document.getElementById('app')!;

// ---------- small helpers ----------
type Child = Node | string | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

function num(v: PageValue | undefined): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Number(v) : v;
}

function fmt(v: number | null): string {
  if (v === null) return '—';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  return v.toFixed(a >= 1000 ? 1 : a >= 10 ? 2 : 4);
}

/** Indices holding the best value (ties included); none when fewer than two values compare. */
function bestOf(values: (number | null)[], lowerBetter: boolean): Set<number> {
  const ok = values.map((v, i) => [v, i] as const).filter(([v]) => v !== null && !Number.isNaN(v)) as [number, number][];
  if (ok.length < 2) return new Set();
  const best = ok.reduce((b, [v]) => (lowerBetter ? Math.min(b, v) : Math.max(b, v)), lowerBetter ? Infinity : -Infinity);
  return new Set(ok.filter(([v]) => v === best).map(([, i]) => i));
}

const arrow = (lowerBetter: boolean): string => (lowerBetter ? '↓' : '↑');
const metricTitle = (m: { id: string; lowerBetter: boolean }): string => `${m.id}: ${m.lowerBetter ? 'lower' : 'higher'} is better`;

// ---------- sortable tables ----------
// Every sortable <th> carries data-col (the cell index in a body row) and data-order ("asc" for
// lower-is-better or text columns, "desc" for higher-is-better): the first click sorts best first,
// the next reverses. Body cells carry data-v, the number or text they sort by; empty = no value,
// always last.
function makeSortable(table: HTMLTableElement): void {
  const heads = [...table.tHead!.querySelectorAll<HTMLTableCellElement>('th[data-col]')];
  for (const th of heads) {
    th.tabIndex = 0;
    const sort = (): void => {
      const col = Number(th.dataset.col);
      const first = th.dataset.order === 'desc' ? 'descending' : 'ascending';
      const now = th.getAttribute('aria-sort');
      const dir = now === first ? (first === 'ascending' ? 'descending' : 'ascending') : first;
      for (const o of heads) o.removeAttribute('aria-sort');
      th.setAttribute('aria-sort', dir);
      const text = th.dataset.type === 'text';
      const body = table.tBodies[0]!;
      const rows = [...body.rows];
      const key = (r: HTMLTableRowElement): string | number | null => {
        const s = r.cells[col]?.dataset.v;
        if (s === undefined || s === '') return null;
        if (text) return s;
        const n = Number(s);
        return Number.isNaN(n) ? null : n;
      };
      rows.sort((ra, rb) => {
        const a = key(ra), b = key(rb);
        if (a === null || b === null) return a === null ? (b === null ? 0 : 1) : -1;
        const c = typeof a === 'string' ? a.localeCompare(b as string, undefined, { numeric: true }) : a < (b as number) ? -1 : a > (b as number) ? 1 : 0;
        return dir === 'ascending' ? c : -c;
      });
      body.append(...rows);
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
  }
}

function valueCell(v: number | null, best: boolean): HTMLTableCellElement {
  const td = h('td', { class: best ? 'num best' : 'num', text: fmt(v) });
  td.dataset.v = v === null || Number.isNaN(v) ? '' : String(v);
  if (v !== null) td.title = String(v);
  return td;
}

// ---------- summary of the means ----------
function summary(): HTMLElement {
  const head = h('tr', {}, h('th', { class: 'label', 'data-col': '0', 'data-type': 'text', 'data-order': 'asc', text: 'Method' }));
  data.metrics.forEach((m, j) => head.append(h('th', { 'data-col': String(j + 1), 'data-order': m.lowerBetter ? 'asc' : 'desc', 'data-metric': m.id, title: metricTitle(m) }, `${m.id} `, h('span', { class: 'arrow', text: arrow(m.lowerBetter) }))));
  const best = data.metrics.map((m) => bestOf(data.methods.map((me) => num(me.mean[m.id])), m.lowerBetter));
  const body = h('tbody');
  data.methods.forEach((me, i) => {
    const name = h('td', { class: 'label' }, h('span', { text: me.name }), me.dir ? h('span', { class: 'dir', text: `  ${me.dir}` }) : null);
    name.dataset.v = me.name;
    const tr = h('tr', { 'data-method': me.name }, name);
    data.metrics.forEach((m, j) => tr.append(valueCell(num(me.mean[m.id]), best[j]!.has(i))));
    body.append(tr);
  });
  const table = h('table', { class: 'sortable', id: 'summary-table' }, h('thead', {}, head), body);
  makeSortable(table);
  const n = data.images.length;
  return h('section', { id: 'summary' }, h('h2', { text: `Mean over ${n} image${n === 1 ? '' : 's'}` }), table);
}

// ---------- per-image table ----------
function perImage(select: (i: number) => void): HTMLElement {
  const multi = data.methods.length > 1;
  const group = h('tr', { class: 'groups' }, h('th', { colspan: '2' }));
  const leaf = h('tr', {}, h('th', { class: 'num', 'data-col': '0', 'data-order': 'asc', text: '#' }), h('th', { class: 'label', 'data-col': '1', 'data-type': 'text', 'data-order': 'asc', text: 'Image' }));
  let col = 2;
  for (const m of data.metrics) {
    if (multi) group.append(h('th', { class: 'gstart', colspan: String(data.methods.length), title: metricTitle(m) }, `${m.id} `, h('span', { class: 'arrow', text: arrow(m.lowerBetter) })));
    data.methods.forEach((me, k) => {
      const label = multi ? me.name : `${m.id} `;
      leaf.append(h('th', { class: k === 0 ? 'gstart' : '', 'data-col': String(col++), 'data-order': m.lowerBetter ? 'asc' : 'desc', title: `${me.name} · ${metricTitle(m)}` }, label, multi ? null : h('span', { class: 'arrow', text: arrow(m.lowerBetter) })));
    });
  }
  const body = h('tbody');
  data.images.forEach((im, i) => {
    const idx = h('td', { class: 'num', text: String(i + 1) });
    idx.dataset.v = String(i);
    const key = h('td', { class: 'label', text: im.key });
    key.dataset.v = im.key;
    const tr = h('tr', { 'data-index': String(i) }, idx, key);
    for (const m of data.metrics) {
      const vals = data.methods.map((_, k) => num(im.values[k]?.[m.id]));
      const best = bestOf(vals, m.lowerBetter);
      vals.forEach((v, k) => {
        const td = valueCell(v, best.has(k));
        if (k === 0) td.classList.add('gstart');
        tr.append(td);
      });
    }
    tr.addEventListener('click', () => { select(i); document.getElementById('viewer')!.scrollIntoView({ block: 'start' }); });
    body.append(tr);
  });
  const table = h('table', { class: 'sortable', id: 'image-table' }, h('thead', {}, multi ? group : null, leaf), body);
  makeSortable(table);
  const det = h('details', { open: '' }, h('summary', { text: 'Per image (click a row to view it)' }), h('div', { class: 'scroll' }, table));
  return h('section', { id: 'per-image' }, det);
}

// ---------- synchronised viewports ----------
interface Layer { panel: string; img: HTMLImageElement; vp: HTMLElement }
const view = { u: 0.5, v: 0.5, z: 1 };
const ZMIN = 1, ZMAX = 256;
const layers: Layer[] = [];
let current = 0;

/** The picture every viewport's aspect and the 1:1 zoom refer to: HR when given, else the first method. */
function refSize(): [number, number] {
  const im = data.images[current]!;
  return im.size.hr ?? im.size.m0 ?? Object.values(im.size)[0]!;
}

function sizeOf(panel: string): [number, number] {
  return data.images[current]!.size[panel] ?? refSize();
}

const fitScale = (vp: HTMLElement, w: number, hgt: number): number => Math.min(vp.clientWidth / w, vp.clientHeight / hgt);

function clampView(): void {
  view.z = Math.min(ZMAX, Math.max(ZMIN, view.z));
  const half = 0.5 / view.z;
  view.u = Math.min(1 - half, Math.max(half, view.u));
  view.v = Math.min(1 - half, Math.max(half, view.v));
}

function applyView(): void {
  clampView();
  for (const { panel, img, vp } of layers) {
    const [w, hgt] = sizeOf(panel);
    const W = vp.clientWidth, H = vp.clientHeight;
    if (W === 0 || H === 0) continue;
    const s = fitScale(vp, w, hgt) * view.z;
    const tx = W / 2 - view.u * w * s, ty = H / 2 - view.v * hgt * s;
    img.style.width = `${w}px`;
    img.style.height = `${hgt}px`;
    img.style.transform = `translate(${tx.toFixed(3)}px, ${ty.toFixed(3)}px) scale(${s.toFixed(6)})`;
    img.classList.toggle('pixelated', s >= 0.999);
  }
  const readout = document.getElementById('zoom-readout');
  if (readout) readout.textContent = `×${view.z < 10 ? view.z.toFixed(2) : view.z.toFixed(1)}`;
  app.dataset.zoom = view.z.toFixed(6);
  app.dataset.u = view.u.toFixed(6);
  app.dataset.v = view.v.toFixed(6);
}

/** Zooms by factor keeping the image point under (mx, my) of viewport vp where it is. */
function zoomAt(vp: HTMLElement, factor: number, mx?: number, my?: number): void {
  const [w, hgt] = refSize();
  const W = vp.clientWidth, H = vp.clientHeight;
  const x = mx ?? W / 2, y = my ?? H / 2;
  const s0 = fitScale(vp, w, hgt) * view.z;
  const px = view.u * w + (x - W / 2) / s0, py = view.v * hgt + (y - H / 2) / s0;
  view.z = Math.min(ZMAX, Math.max(ZMIN, view.z * factor));
  const s1 = fitScale(vp, w, hgt) * view.z;
  view.u = (px - (x - W / 2) / s1) / w;
  view.v = (py - (y - H / 2) / s1) / hgt;
  applyView();
}

function panBy(vp: HTMLElement, dx: number, dy: number): void {
  const [w, hgt] = refSize();
  const s = fitScale(vp, w, hgt) * view.z;
  view.u -= dx / (s * w);
  view.v -= dy / (s * hgt);
  applyView();
}

function resetView(): void {
  view.u = 0.5; view.v = 0.5; view.z = 1;
  applyView();
}

function mainViewport(): HTMLElement {
  return mode === 'ab' ? document.querySelector<HTMLElement>('#ab-view .viewport')! : document.querySelector<HTMLElement>('#grid .viewport')!;
}

/** One screen pixel per image pixel in the viewport in use. */
function oneToOne(): void {
  const vp = mainViewport();
  const [w, hgt] = refSize();
  view.z = 1 / fitScale(vp, w, hgt);
  applyView();
}

function attachViewport(vp: HTMLElement): void {
  vp.addEventListener('wheel', (e) => {
    e.preventDefault();
    const r = vp.getBoundingClientRect();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? vp.clientHeight : 1;
    const f = Math.min(2, Math.max(0.5, Math.exp(-e.deltaY * unit * 0.002)));
    zoomAt(vp, f, e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  let drag: { id: number; x: number; y: number } | null = null;
  vp.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    drag = { id: e.pointerId, x: e.clientX, y: e.clientY };
    vp.setPointerCapture(e.pointerId);
    vp.classList.add('dragging');
  });
  vp.addEventListener('pointermove', (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    drag.x = e.clientX; drag.y = e.clientY;
    panBy(vp, dx, dy);
  });
  const end = (e: PointerEvent): void => {
    if (!drag || e.pointerId !== drag.id) return;
    drag = null;
    vp.classList.remove('dragging');
  };
  vp.addEventListener('pointerup', end);
  vp.addEventListener('pointercancel', end);
  vp.addEventListener('dblclick', resetView);
}

/** A viewport holding one stacked layer per entry (the A/B view stacks two). */
function viewport(panels: { panel: string; cls?: string }[]): { vp: HTMLElement; parts: { layer: Layer; holder: HTMLElement }[] } {
  const vp = h('div', { class: 'viewport' });
  const parts = panels.map(({ panel, cls }) => {
    const img = h('img', { alt: '', draggable: 'false', decoding: 'async' });
    img.dataset.panel = panel;
    const holder = h('div', { class: `layer ${cls ?? ''}`.trim() }, img);
    holder.style.cssText = 'position:absolute;inset:0;';
    vp.append(holder);
    const layer: Layer = { panel, img, vp };
    layers.push(layer);
    return { layer, holder };
  });
  attachViewport(vp);
  return { vp, parts };
}

// ---------- panels and captions ----------
const KIND_NOTE: Record<PagePanel['kind'], string> = { lr: 'input, nearest ×4', bicubic: 'baseline', method: 'method', hr: 'reference' };

function caption(p: PagePanel, prefix = ''): HTMLElement {
  const cap = h('div', { class: 'cap' },
    h('div', { class: 'title' }, h('span', { text: prefix + p.label }), h('span', { class: 'kind', text: KIND_NOTE[p.kind] })),
    h('div', { class: 'file' }),
    h('div', { class: 'vals' }));
  cap.dataset.panel = p.id;
  return cap;
}

function fillCaption(cap: HTMLElement, p: PagePanel): void {
  const im = data.images[current]!;
  const file = cap.querySelector<HTMLElement>('.file')!;
  file.textContent = im.names[p.id] ?? '';
  file.title = im.names[p.id] ?? '';
  const vals = cap.querySelector<HTMLElement>('.vals')!;
  vals.replaceChildren();
  if (p.kind !== 'method' || data.metrics.length === 0) return;
  for (const m of data.metrics) {
    const all = data.methods.map((_, k) => num(im.values[k]?.[m.id]));
    const v = all[p.method!] ?? null;
    const best = bestOf(all, m.lowerBetter).has(p.method!);
    const el = h('span', { class: best ? 'v best' : 'v', title: `${metricTitle(m)}${v !== null ? ` (${v})` : ''}` }, h('span', { class: 'id', text: `${m.id}${arrow(m.lowerBetter)}` }), fmt(v));
    el.dataset.metric = m.id;
    vals.append(el);
  }
}

const captions: { cap: HTMLElement; panel: () => PagePanel }[] = [];
const panelById = new Map(data.panels.map((p) => [p.id, p] as const));

// ---------- A/B view ----------
let mode: 'grid' | 'ab' = 'grid';
let abA = '', abB = '';
let abPos = 50;

function abView(): HTMLElement {
  const methods = data.panels.filter((p) => p.kind === 'method');
  abA = methods[0]!.id;
  abB = (methods[1] ?? panelById.get('hr') ?? panelById.get('bicubic') ?? methods[0]!).id;
  const opts = (sel: string): HTMLSelectElement => {
    const s = h('select');
    for (const p of data.panels) {
      const o = h('option', { value: p.id, text: p.label });
      if (p.id === sel) o.selected = true;
      s.append(o);
    }
    return s;
  };
  const selA = opts(abA), selB = opts(abB);
  selA.id = 'ab-a'; selB.id = 'ab-b';
  const slider = h('input', { type: 'range', id: 'ab-slider', min: '0', max: '100', step: '0.1', value: String(abPos), 'aria-label': 'A/B split position' });
  const swap = h('button', { id: 'ab-swap', type: 'button', text: '⇄ Swap', title: 'swap A and B (S)' });
  const flip = h('button', { id: 'ab-flip', type: 'button', text: 'Flip A/B', title: 'show all of A, then all of B (F)' });
  const { vp, parts: [b, a] } = viewport([{ panel: abB, cls: 'b-layer' }, { panel: abA, cls: 'a-layer' }]);
  const divider = h('div', { class: 'divider' });
  const tagA = h('div', { class: 'tag' }); tagA.style.left = '6px';
  const tagB = h('div', { class: 'tag' }); tagB.style.right = '6px';
  vp.append(divider, tagA, tagB);
  const capA = caption(panelById.get(abA)!, 'A · ');
  const capB = caption(panelById.get(abB)!, 'B · ');
  const capsBox = h('div', { class: 'ab-caps' }, h('div', { class: 'panel' }, capA), h('div', { class: 'panel' }, capB));
  const setSplit = (): void => {
    a!.holder.style.clipPath = `inset(0 ${(100 - abPos).toFixed(2)}% 0 0)`;
    divider.style.left = `${abPos}%`;
    slider.value = String(abPos);
    vp.dataset.split = String(abPos);
  };
  const setPanels = (): void => {
    a!.layer.panel = abA; b!.layer.panel = abB;
    a!.layer.img.dataset.panel = abA; b!.layer.img.dataset.panel = abB;
    const im = data.images[current]!;
    a!.layer.img.src = im.src[abA] ?? ''; b!.layer.img.src = im.src[abB] ?? '';
    tagA.textContent = `A: ${panelById.get(abA)!.label}`;
    tagB.textContent = `B: ${panelById.get(abB)!.label}`;
    selA.value = abA; selB.value = abB;
    const pa = panelById.get(abA)!, pb = panelById.get(abB)!;
    capA.querySelector('.title > span')!.textContent = `A · ${pa.label}`;
    capA.querySelector('.title > .kind')!.textContent = KIND_NOTE[pa.kind];
    capB.querySelector('.title > span')!.textContent = `B · ${pb.label}`;
    capB.querySelector('.title > .kind')!.textContent = KIND_NOTE[pb.kind];
    fillCaption(capA, pa); fillCaption(capB, pb);
    applyView();
  };
  abRefresh = setPanels;
  selA.addEventListener('change', () => { abA = selA.value; setPanels(); });
  selB.addEventListener('change', () => { abB = selB.value; setPanels(); });
  slider.addEventListener('input', () => { abPos = Number(slider.value); setSplit(); });
  swap.addEventListener('click', () => { [abA, abB] = [abB, abA]; setPanels(); });
  flip.addEventListener('click', () => { abPos = abPos >= 50 ? 0 : 100; setSplit(); });
  abFlip = () => flip.click();
  abSwap = () => swap.click();
  setSplit();
  const controls = h('div', { class: 'ab-controls' },
    h('span', { class: 'group' }, h('span', { class: 'lbl', text: 'A (left)' }), selA),
    h('span', { class: 'group' }, h('span', { class: 'lbl', text: 'B (right)' }), selB),
    swap, slider, flip);
  return h('div', { id: 'ab-view', class: 'hidden' }, controls, h('div', { class: 'ab-body' }, vp, capsBox));
}
let abRefresh: () => void = () => {};
let abFlip: () => void = () => {};
let abSwap: () => void = () => {};

// ---------- the viewer ----------
function gridView(): HTMLElement {
  const grid = h('div', { class: 'grid', id: 'grid' });
  for (const p of data.panels) {
    const { vp } = viewport([{ panel: p.id }]);
    const cap = caption(p);
    captions.push({ cap, panel: () => p });
    const el = h('div', { class: 'panel' }, vp, cap);
    el.dataset.panel = p.id;
    grid.append(el);
  }
  return grid;
}

/** All panels in one row when each can be at least 200 px wide, else as many per row as fit; at most 560 px each. */
function layoutGrid(): void {
  const grid = document.getElementById('grid');
  if (!grid) return;
  const gap = 10, n = data.panels.length;
  const width = (grid.parentElement?.clientWidth ?? window.innerWidth) || window.innerWidth;
  const cols = Math.max(1, Math.min(n, Math.floor((width + gap) / (200 + gap))));
  grid.style.gridTemplateColumns = `repeat(${cols}, minmax(0, 1fr))`;
  grid.style.maxWidth = `${cols * 560 + (cols - 1) * gap}px`;
}

function setAspect(): void {
  const [w, hgt] = refSize();
  for (const vp of document.querySelectorAll<HTMLElement>('.viewport')) vp.style.aspectRatio = `${w} / ${hgt}`;
  fitAbViewport();
}

/** The A/B viewport as large as the window allows below the toolbar and its controls. */
function fitAbViewport(): void {
  const vp = document.querySelector<HTMLElement>('#ab-view .viewport');
  if (!vp) return;
  const [w, hgt] = refSize();
  const avail = Math.max(240, window.innerHeight - 140);
  vp.style.width = `min(100%, ${Math.floor((avail * w) / hgt)}px)`;
}

function selectImage(i: number): void {
  const n = data.images.length;
  current = ((i % n) + n) % n;
  const im = data.images[current]!;
  for (const l of layers) l.img.src = im.src[l.panel] ?? '';
  for (const { cap, panel } of captions) fillCaption(cap, panel());
  const sel = document.getElementById('image-select') as HTMLSelectElement | null;
  if (sel) sel.value = String(current);
  const pos = document.getElementById('image-pos');
  if (pos) pos.textContent = `${current + 1} / ${n}`;
  for (const tr of document.querySelectorAll<HTMLTableRowElement>('#image-table tbody tr')) tr.classList.toggle('current', tr.dataset.index === String(current));
  app.dataset.image = im.key;
  setAspect();
  view.u = 0.5; view.v = 0.5; view.z = 1;
  abRefresh();
  applyView();
}

function setMode(m: 'grid' | 'ab'): void {
  mode = m;
  document.getElementById('grid')!.classList.toggle('hidden', m !== 'grid');
  document.getElementById('ab-view')!.classList.toggle('hidden', m !== 'ab');
  document.getElementById('mode-grid')!.setAttribute('aria-pressed', String(m === 'grid'));
  document.getElementById('mode-ab')!.setAttribute('aria-pressed', String(m === 'ab'));
  app.dataset.mode = m;
  applyView();
}

function toolbar(): HTMLElement {
  const sel = h('select', { id: 'image-select', 'aria-label': 'image' });
  data.images.forEach((im, i) => sel.append(h('option', { value: String(i), text: im.key })));
  sel.addEventListener('change', () => selectImage(Number(sel.value)));
  const btn = (id: string, text: string, title: string, fn: () => void): HTMLButtonElement => {
    const b = h('button', { id, type: 'button', text, title });
    b.addEventListener('click', fn);
    return b;
  };
  const zoomBtn = (f: number) => (): void => zoomAt(mainViewport(), f);
  return h('div', { class: 'toolbar' },
    h('span', { class: 'group' }, h('span', { class: 'lbl', text: 'Image' }),
      btn('prev', '◀', 'previous image (←)', () => selectImage(current - 1)), sel,
      btn('next', '▶', 'next image (→)', () => selectImage(current + 1)), h('span', { id: 'image-pos' })),
    h('span', { class: 'group' }, h('span', { class: 'lbl', text: 'Zoom' }),
      btn('zoom-out', '−', 'zoom out (−)', zoomBtn(0.5)), btn('zoom-fit', 'Fit', 'fit the whole image (0, or double-click)', resetView),
      btn('zoom-1', '1:1', 'one screen pixel per image pixel (1)', oneToOne), btn('zoom-in', '+', 'zoom in (+)', zoomBtn(2)),
      h('span', { id: 'zoom-readout' })),
    h('span', { class: 'group' }, h('span', { class: 'lbl', text: 'View' }),
      btn('mode-grid', 'Side by side', 'all panels (G)', () => setMode('grid')),
      btn('mode-ab', 'A/B slider', 'two chosen panels under one split (C)', () => { setMode('ab'); document.getElementById('viewer')!.scrollIntoView({ block: 'start' }); })));
}

function build(): void {
  const nImg = data.images.length, nM = data.methods.length;
  const metricList = data.metrics.map((m) => `${m.id} ${arrow(m.lowerBetter)}`).join(', ');
  app.append(
    h('header', {}, h('h1', { text: data.title }),
      h('div', { class: 'sub', text: `${nImg} image${nImg === 1 ? '' : 's'} · ${nM} method${nM === 1 ? '' : 's'}${metricList ? ` · metrics: ${metricList} (↑ higher is better, ↓ lower is better; ★ best)` : ''} · ${data.generated}` })),
    summary(),
    h('section', { id: 'viewer' }, toolbar(), gridView(), abView()),
    perImage((i) => selectImage(i)),
    h('div', { class: 'help' }, 'Wheel: zoom at the pointer · drag: pan · double-click: fit — all panels move together. Keys: ',
      h('kbd', { text: '←' }), ' ', h('kbd', { text: '→' }), ' image, ', h('kbd', { text: '+' }), ' ', h('kbd', { text: '−' }), ' zoom, ',
      h('kbd', { text: '0' }), ' fit, ', h('kbd', { text: '1' }), ' 1:1, ', h('kbd', { text: 'G' }), ' side by side, ', h('kbd', { text: 'C' }), ' A/B, ',
      h('kbd', { text: 'S' }), ' swap, ', h('kbd', { text: 'F' }), ' flip. Pictures are lossless PNG: LR is shown ×4 by nearest neighbour, bicubic is vpdsr\'s (PyTorch\'s kernel).'));
  document.addEventListener('keydown', (e) => {
    const t = e.target as HTMLElement;
    if (e.ctrlKey || e.metaKey || e.altKey || t.tagName === 'SELECT' || t.tagName === 'INPUT') return;
    const actions: Record<string, () => void> = {
      ArrowLeft: () => selectImage(current - 1), ArrowRight: () => selectImage(current + 1),
      '+': () => zoomAt(mainViewport(), 2), '=': () => zoomAt(mainViewport(), 2), '-': () => zoomAt(mainViewport(), 0.5),
      '0': resetView, '1': oneToOne, g: () => setMode('grid'), c: () => setMode('ab'), s: () => abSwap(), f: () => abFlip(),
    };
    const fn = actions[e.key];
    if (fn) { e.preventDefault(); fn(); }
  });
  new ResizeObserver(() => applyView()).observe(document.getElementById('viewer')!);
  window.addEventListener('resize', () => { layoutGrid(); fitAbViewport(); applyView(); });
  layoutGrid();
  setMode('grid');
  selectImage(0);
  app.dataset.ready = '1';
}

build();
