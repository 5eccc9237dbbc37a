// The report page's stylesheet: a dark neutral grey around the images, so that no colour cast or
// bright frame biases how people judge them; system fonts only (the page works offline).
export const REPORT_CSS = String.raw`
:root {
  --bg: #1b1b1b; --panel: #242424; --view: #111; --line: #3a3a3a; --text: #e6e6e6;
  --muted: #9a9a9a; --accent: #7fb2ff; --best: #8fd694; --bestbg: rgba(143, 214, 148, 0.12);
  color-scheme: dark;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { padding: 14px 20px 6px; }
h1 { font-size: 20px; margin: 0 0 2px; font-weight: 600; }
h2 { font-size: 15px; margin: 0 0 8px; font-weight: 600; color: var(--text); }
.sub { color: var(--muted); font-size: 12.5px; }
section { padding: 8px 20px 14px; }
.num { font-variant-numeric: tabular-nums; text-align: right; }

table.sortable { border-collapse: collapse; font-size: 13px; }
table.sortable th, table.sortable td { padding: 4px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
table.sortable thead th { position: sticky; top: 0; background: var(--panel); text-align: right;
  cursor: pointer; user-select: none; font-weight: 600; }
table.sortable thead th.label, table.sortable td.label { text-align: left; }
table.sortable thead th:hover { color: var(--accent); }
table.sortable thead th[aria-sort="ascending"]::after { content: " \25B4"; color: var(--accent); }
table.sortable thead th[aria-sort="descending"]::after { content: " \25BE"; color: var(--accent); }
table.sortable thead tr.groups th { cursor: default; text-align: center; color: var(--muted); font-weight: 500; }
table.sortable tbody tr:hover { background: #2c2c2c; }
table.sortable .gstart { border-left: 1px solid var(--line); }
td.best { color: var(--best); font-weight: 700; background: var(--bestbg); }
td.best::after { content: " \2605"; font-size: 10px; vertical-align: 1px; }
.dir { color: var(--muted); font-size: 12px; }
.arrow { color: var(--muted); font-weight: 400; font-size: 11px; }
#per-image tbody tr { cursor: pointer; }
#per-image tbody tr.current { outline: 1px solid var(--accent); outline-offset: -1px; }
#per-image .scroll { max-height: 340px; overflow: auto; display: inline-block; border: 1px solid var(--line); }
details > summary { cursor: pointer; color: var(--text); font-weight: 600; margin-bottom: 8px; }

.toolbar { display: flex; flex-wrap: wrap; gap: 8px 18px; align-items: center; padding: 8px 10px;
  background: var(--panel); border: 1px solid var(--line); border-radius: 6px; margin-bottom: 10px; position: sticky; top: 0; z-index: 5; }
.group { display: flex; gap: 6px; align-items: center; }
.group > .lbl { color: var(--muted); font-size: 12px; margin-right: 2px; }
button, select, input[type=range] { font: inherit; color: var(--text); }
button, select { background: #323232; border: 1px solid #4a4a4a; border-radius: 4px; padding: 3px 9px; cursor: pointer; }
button:hover, select:hover { border-color: var(--accent); }
button[aria-pressed="true"] { background: #3d5a80; border-color: var(--accent); }
select { max-width: 280px; }
#zoom-readout, #image-pos { color: var(--muted); font-variant-numeric: tabular-nums; min-width: 56px; }

.grid { display: grid; gap: 10px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; overflow: hidden; }
.panel .cap { padding: 6px 9px 7px; }
.panel .title { font-weight: 600; display: flex; justify-content: space-between; gap: 8px; }
.panel .title .kind { color: var(--muted); font-weight: 400; font-size: 12px; }
.panel .file { color: var(--muted); font-size: 11.5px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.vals { display: flex; flex-wrap: wrap; gap: 2px 12px; margin-top: 3px; font-size: 12.5px; }
.vals .v { font-variant-numeric: tabular-nums; }
.vals .v .id { color: var(--muted); margin-right: 4px; }
.vals .v.best { color: var(--best); font-weight: 700; }

.viewport { position: relative; overflow: hidden; background: var(--view); cursor: grab; touch-action: none; width: 100%; }
.viewport.dragging { cursor: grabbing; }
.viewport img { position: absolute; left: 0; top: 0; transform-origin: 0 0; max-width: none; user-select: none;
  -webkit-user-drag: none; image-rendering: auto; }
.viewport img.pixelated { image-rendering: pixelated; }
.viewport .tag { position: absolute; top: 6px; padding: 1px 7px; border-radius: 3px; background: rgba(0,0,0,0.65);
  color: #fff; font-size: 12px; pointer-events: none; z-index: 3; }

#ab-view .viewport img.b-layer { z-index: 1; }
#ab-view .viewport img.a-layer { z-index: 2; }
#ab-view .divider { position: absolute; top: 0; bottom: 0; width: 2px; margin-left: -1px; background: rgba(255,255,255,0.85);
  box-shadow: 0 0 3px rgba(0,0,0,0.8); z-index: 3; pointer-events: none; }
#ab-view .ab-controls { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin: 0 0 8px; }
#ab-slider { width: min(480px, 60vw); accent-color: var(--accent); }
#ab-view .ab-body { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start; }
#ab-view .ab-body > .viewport { flex: none; }
#ab-view .ab-caps { display: flex; flex-direction: column; gap: 10px; flex: 1 1 260px; max-width: 420px; }
.hidden { display: none !important; }
.help { color: var(--muted); font-size: 12px; padding: 4px 20px 18px; }
kbd { border: 1px solid #555; border-bottom-width: 2px; border-radius: 3px; padding: 0 4px; font-size: 11px; background: #2a2a2a; }
`;
