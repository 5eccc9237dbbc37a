// What the report page receives as JSON (types only: shared by the writer and the page script).

/** A metric value: a number, a non-finite number spelt as a string ("Infinity", "-Infinity", "NaN"), or null (not computed). */
export type PageValue = number | 'Infinity' | '-Infinity' | 'NaN' | null;

export type PanelKind = 'lr' | 'bicubic' | 'method' | 'hr';

export interface PagePanel {
  /** Stable id used in the DOM (data-panel) and in image.src: "lr", "bicubic", "m0", "m1", …, "hr". */
  id: string;
  label: string;
  kind: PanelKind;
  /** Index into methods for kind "method". */
  method?: number;
}

export interface PageImage {
  key: string;
  /** panel id → file name shown in the caption. */
  names: Record<string, string>;
  /** panel id → image URL (a data: URI, or a path relative to the report). */
  src: Record<string, string>;
  /** panel id → [width, height] of that picture. */
  size: Record<string, [number, number]>;
  /** One entry per method: metric id → value. */
  values: Record<string, PageValue>[];
}

export interface PageData {
  title: string;
  generated: string;
  metrics: { id: string; lowerBetter: boolean }[];
  methods: { name: string; dir: string; mean: Record<string, PageValue> }[];
  panels: PagePanel[];
  images: PageImage[];
}
