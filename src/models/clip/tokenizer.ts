// CLIP's byte-level BPE tokenizer — CLIP@d05afc4:clip/simple_tokenizer.py (SimpleTokenizer) and
// clip/clip.py (tokenize). ftfy.fix_text is not ported: text that ftfy would repair (mojibake,
// curly quotes, ligatures, non-NFC forms) can tokenize differently from upstream.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { HTML5_ENTITIES, INVALID_CHARREFS, INVALID_CODEPOINTS } from './html_entities.js';

/** The vocabulary shipped with vpdsr (OpenAI CLIP's, MIT; see assets/clip/LICENSE). */
export const DEFAULT_BPE_PATH = fileURLToPath(new URL('../../../../assets/clip/bpe_simple_vocab_16e6.txt.gz', import.meta.url));

export const SOT_TOKEN = 49406;
export const EOT_TOKEN = 49407;

/** simple_tokenizer.bytes_to_unicode: a printable character for every byte, as [byte, char] in the dict's order. */
export function bytesToUnicodePairs(): [number, string][] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  }
  return bs.map((b, i) => [b, String.fromCodePoint(cs[i]!)]);
}

/** The character of every byte (indexed by byte). */
export function bytesToUnicode(): string[] {
  const out = new Array<string>(256);
  for (const [b, ch] of bytesToUnicodePairs()) out[b] = ch;
  return out;
}

// Python's str.isspace() characters (what str.strip() removes), and the `regex` module's \s (the
// Unicode White_Space property, which leaves out \x1c-\x1f) that whitespace_clean collapses.
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WS_RUN = /\p{White_Space}+/gu;
const WS_EDGES = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'gu');
const pyStrip = (s: string): string => s.replace(WS_EDGES, '');

// html.unescape's reference pattern (Lib/html/__init__.py _charref).
const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

/** Python's html.unescape. */
export function htmlUnescape(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(CHARREF, (_m, ref: string) => {
    if (ref[0] === '#') {
      const hex = ref[1] === 'x' || ref[1] === 'X';
      const digits = ref.slice(hex ? 2 : 1).replace(/;$/, '');
      const big = BigInt(hex ? `0x${digits}` : digits);
      const num = big > 0x10ffffn ? 0x110000 : Number(big);
      const inv = INVALID_CHARREFS[num];
      if (inv !== undefined) return inv;
      if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\uFFFD';
      if (INVALID_CODEPOINTS.has(num)) return '';
      return String.fromCodePoint(num);
    }
    const hit = HTML5_ENTITIES[ref];
    if (hit !== undefined) return hit;
    // the longest entity name that prefixes the reference (as the standard defines it)
    for (let x = ref.length - 1; x > 1; x--) {
      const h = HTML5_ENTITIES[ref.slice(0, x)];
      if (h !== undefined) return h + ref.slice(x);
    }
    return '&' + ref;
  });
}

/** simple_tokenizer.basic_clean (without ftfy) then whitespace_clean. */
export function cleanText(text: string): string {
  const basic = pyStrip(htmlUnescape(htmlUnescape(text)));
  return pyStrip(basic.replace(WS_RUN, ' '));
}

// SimpleTokenizer.pat (`regex` module, IGNORECASE).
const PAT = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\p{White_Space}\p{L}\p{N}]+/giu;

export class SimpleTokenizer {
  readonly byteEncoder: string[];
  readonly encoder = new Map<string, number>();
  readonly decoder: string[] = [];
  private readonly bpeRanks = new Map<string, number>();
  private readonly cache = new Map<string, string[]>();

  /** Reads the gzip'd merges file (default: the shipped copy). */
  constructor(bpePath: string = DEFAULT_BPE_PATH) {
    let text: string;
    try {
      text = zlib.gunzipSync(fs.readFileSync(bpePath)).toString('utf8');
    } catch (e) {
      throw new Error(`CLIP tokenizer: cannot read the BPE vocabulary ${bpePath} (${(e as Error).message.split('\n')[0]}); it ships with vpdsr in assets/clip/ and is published as openai/CLIP clip/bpe_simple_vocab_16e6.txt.gz`);
    }
    const lines = text.split('\n');
    const merges = lines.slice(1, 49152 - 256 - 2 + 1).map((l) => l.split(/\s+/).filter((p) => p.length > 0));
    if (merges.length !== 48894 || merges.some((m) => m.length !== 2)) throw new Error(`CLIP tokenizer: ${bpePath} is not CLIP's BPE merges file (expected 48894 merge lines)`);
    this.byteEncoder = bytesToUnicode();
    const symbols = bytesToUnicodePairs().map(([, ch]) => ch); // vocabulary order: the dict's values
    const vocab = [...symbols, ...symbols.map((v) => v + '</w>'), ...merges.map((m) => m.join('')), '<|startoftext|>', '<|endoftext|>'];
    vocab.forEach((v, i) => { this.encoder.set(v, i); this.decoder.push(v); });
    merges.forEach((m, i) => this.bpeRanks.set(`${m[0]} ${m[1]}`, i));
    this.cache.set('<|startoftext|>', ['<|startoftext|>']);
    this.cache.set('<|endoftext|>', ['<|endoftext|>']);
  }

  /** SimpleTokenizer.bpe: the merged symbols of one pre-token (byte-mapped). */
  bpe(token: string): string[] {
    const hit = this.cache.get(token);
    if (hit) return hit;
    const chars = [...token];
    let word = [...chars.slice(0, -1), chars[chars.length - 1]! + '</w>'];
    while (word.length > 1) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.bpeRanks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
      }
      if (best < 0) break;
      const first = word[best]!, second = word[best + 1]!;
      const next: string[] = [];
      for (let i = 0; i < word.length;) {
        if (word[i] === first && i < word.length - 1 && word[i + 1] === second) { next.push(first + second); i += 2; } else { next.push(word[i]!); i += 1; }
      }
      word = next;
    }
    if (this.cache.size < 100_000) this.cache.set(token, word);
    return word;
  }

  /** SimpleTokenizer.encode: ids of the text body (no start/end tokens). */
  encode(text: string): number[] {
    const ids: number[] = [];
    const clean = cleanText(text).toLowerCase();
    for (const m of clean.matchAll(PAT)) {
      const tok = m[0];
      const mapped = tok === '<|startoftext|>' || tok === '<|endoftext|>' ? tok : [...Buffer.from(tok, 'utf8')].map((b) => this.byteEncoder[b]!).join('');
      for (const piece of this.bpe(mapped)) ids.push(this.encoder.get(piece)!);
    }
    return ids;
  }

  /** SimpleTokenizer.decode. */
  decode(ids: readonly number[]): string {
    const byteDecoder = new Map(this.byteEncoder.map((c, b) => [c, b]));
    const text = ids.map((i) => this.decoder[i] ?? '').join('');
    const bytes = [...text].map((ch) => byteDecoder.get(ch) ?? 0x3f);
    return Buffer.from(bytes).toString('utf8').replaceAll('</w>', ' ');
  }
}

let shared: SimpleTokenizer | undefined;
/** The tokenizer on the shipped vocabulary, built once. */
export function defaultTokenizer(): SimpleTokenizer {
  shared ??= new SimpleTokenizer();
  return shared;
}

export interface TokenizeOptions {
  /** Context length (default 77). */
  contextLength?: number;
  /** Cut texts that are too long (keeping the end-of-text token) instead of failing (default false). */
  truncate?: boolean;
  tokenizer?: SimpleTokenizer;
}

/** Token ids per text with start/end tokens, unpadded (clip.tokenize's rows before padding). */
export function tokenizeIds(texts: string | readonly string[], opts: TokenizeOptions = {}): number[][] {
  const list = typeof texts === 'string' ? [texts] : texts;
  if (!Array.isArray(list) || list.some((t) => typeof t !== 'string')) throw new TypeError('tokenize: texts must be a string or an array of strings');
  const ctx = opts.contextLength ?? 77;
  if (!Number.isInteger(ctx) || ctx < 2) throw new RangeError(`tokenize: contextLength must be an integer ≥ 2, got ${ctx}`);
  const tok = opts.tokenizer ?? defaultTokenizer();
  return list.map((text) => {
    const ids = [SOT_TOKEN, ...tok.encode(text), EOT_TOKEN];
    if (ids.length > ctx) {
      if (!opts.truncate) throw new RangeError(`tokenize: input ${JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text)} is too long for context length ${ctx}`);
      ids.length = ctx;
      ids[ctx - 1] = EOT_TOKEN;
    }
    return ids;
  });
}

/** clip.tokenize: int64 [N, contextLength], zero padded. */
export function tokenize(texts: string | readonly string[], opts: TokenizeOptions = {}): Tensor {
  const rows = tokenizeIds(texts, opts);
  const ctx = opts.contextLength ?? 77;
  const flat = new BigInt64Array(rows.length * ctx);
  rows.forEach((r, i) => r.forEach((id, j) => { flat[i * ctx + j] = BigInt(id); }));
  return torch.fromBytes(new Uint8Array(flat.buffer), 'int64', [rows.length, ctx]);
}
