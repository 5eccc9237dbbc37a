// EXIF and ICC blocks: normalising what sharp reports, resetting the orientation once pixels have
// been rotated upright, and placing the blocks into encoded files. sharp only attaches EXIF from
// key/value strings and ICC profiles from files (with a colour transform), so carrying a raw block
// over unchanged is done here at the container level (PNG chunks, JPEG APP segments, WebP RIFF
// chunks, the TIFF ICC tag).
import { crc32, deflateSync } from 'node:zlib';

const EXIF_PREFIX = Buffer.from('Exif\0\0', 'latin1');

function isTiffHeader(b: Uint8Array): boolean {
  return b.length >= 8 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42));
}

/** EXIF as a TIFF-structured block (the "Exif\0\0" APP1 prefix removed), or undefined if it is not one. */
export function normalizeExif(exif: Uint8Array | undefined): Buffer | undefined {
  if (!exif || exif.length === 0) return undefined;
  let b = Buffer.from(exif);
  if (b.subarray(0, 6).equals(EXIF_PREFIX)) b = b.subarray(6);
  return isTiffHeader(b) ? Buffer.from(b) : undefined;
}

/** A copy of a TIFF-structured EXIF block with IFD0's Orientation (0x0112) set to 1, if present. */
export function resetExifOrientation(exif: Buffer): Buffer {
  const b = Buffer.from(exif);
  const le = b[0] === 0x49;
  const u16 = (o: number): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const ifd = u32(4);
  if (ifd + 2 > b.length) return b;
  const n = u16(ifd);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + 12 * i;
    if (e + 12 > b.length) break;
    if (u16(e) === 0x0112 && u16(e + 2) === 3) {
      if (le) b.writeUInt16LE(1, e + 8); else b.writeUInt16BE(1, e + 8);
    }
  }
  return b;
}

// ---- PNG ------------------------------------------------------------------------------------

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Inserts iCCP / eXIf after IHDR, replacing any iCCP, sRGB or eXIf the encoder wrote. */
export function pngWithMetadata(png: Buffer, exif?: Buffer, icc?: Buffer): Buffer {
  const parts: Buffer[] = [png.subarray(0, 8)];
  let o = 8;
  while (o + 12 <= png.length) {
    const len = png.readUInt32BE(o);
    const type = png.toString('latin1', o + 4, o + 8);
    const end = o + 12 + len;
    const chunk = png.subarray(o, end);
    const drop = (icc && (type === 'iCCP' || type === 'sRGB')) || (exif && type === 'eXIf');
    if (!drop) parts.push(chunk);
    if (type === 'IHDR') {
      if (icc) parts.push(pngChunk('iCCP', Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(icc)])));
      if (exif) parts.push(pngChunk('eXIf', exif));
    }
    o = end;
  }
  return Buffer.concat(parts);
}

// ---- JPEG -----------------------------------------------------------------------------------

const ICC_SIG = Buffer.from('ICC_PROFILE\0', 'latin1');

function jpegSegment(marker: number, data: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = 0xff; h[1] = marker;
  h.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([h, data]);
}

/** Inserts APP1 Exif and APP2 ICC_PROFILE segments after SOI (and JFIF APP0), replacing existing ones. */
export function jpegWithMetadata(jpg: Buffer, exif?: Buffer, icc?: Buffer): Buffer {
  const segs: Buffer[] = [];
  if (exif) {
    if (exif.length + 6 > 65533) throw new Error(`EXIF block of ${exif.length} bytes is too large for a JPEG APP1 segment`);
    segs.push(jpegSegment(0xe1, Buffer.concat([EXIF_PREFIX, exif])));
  }
  if (icc) {
    const max = 65533 - ICC_SIG.length - 2;
    const count = Math.ceil(icc.length / max);
    if (count > 255) throw new Error(`ICC profile of ${icc.length} bytes is too large for JPEG`);
    for (let i = 0; i < count; i++) {
      segs.push(jpegSegment(0xe2, Buffer.concat([ICC_SIG, Buffer.from([i + 1, count]), icc.subarray(i * max, (i + 1) * max)])));
    }
  }
  const head: Buffer[] = [jpg.subarray(0, 2)];
  const rest: Buffer[] = [];
  let o = 2;
  let inserted = false;
  while (o + 4 <= jpg.length && jpg[o] === 0xff) {
    const marker = jpg[o + 1]!;
    if (marker === 0xda || marker === 0xd9) break; // SOS: entropy-coded data follows
    const len = jpg.readUInt16BE(o + 2);
    const seg = jpg.subarray(o, o + 2 + len);
    const body = seg.subarray(4);
    const isExif = marker === 0xe1 && body.subarray(0, 6).equals(EXIF_PREFIX);
    const isIcc = marker === 0xe2 && body.subarray(0, ICC_SIG.length).equals(ICC_SIG);
    if (!((exif && isExif) || (icc && isIcc))) {
      if (!inserted && marker === 0xe0) head.push(seg);
      else { if (!inserted) { head.push(...segs); inserted = true; } rest.push(seg); }
    }
    o += 2 + len;
  }
  if (!inserted) head.push(...segs);
  return Buffer.concat([...head, ...rest, jpg.subarray(o)]);
}

// ---- WebP -----------------------------------------------------------------------------------

interface RiffChunk { type: string; data: Buffer }

function riffChunk(c: RiffChunk): Buffer {
  const h = Buffer.alloc(8);
  h.write(c.type, 0, 'latin1');
  h.writeUInt32LE(c.data.length, 4);
  return Buffer.concat([h, c.data, c.data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** Rewrites a WebP as the extended format (VP8X) with ICCP before and EXIF after the image data. */
export function webpWithMetadata(webp: Buffer, width: number, height: number, hasAlpha: boolean, exif?: Buffer, icc?: Buffer): Buffer {
  const chunks: RiffChunk[] = [];
  let o = 12;
  while (o + 8 <= webp.length) {
    const type = webp.toString('latin1', o, o + 4);
    const len = webp.readUInt32LE(o + 4);
    chunks.push({ type, data: webp.subarray(o + 8, o + 8 + len) });
    o += 8 + len + (len % 2);
  }
  let vp8x = chunks.find((c) => c.type === 'VP8X');
  const body = chunks.filter((c) => c.type !== 'VP8X' && !(icc && c.type === 'ICCP') && !(exif && c.type === 'EXIF'));
  if (!vp8x) {
    const d = Buffer.alloc(10);
    d.writeUIntLE(width - 1, 4, 3);
    d.writeUIntLE(height - 1, 7, 3);
    vp8x = { type: 'VP8X', data: d };
  } else {
    vp8x = { type: 'VP8X', data: Buffer.from(vp8x.data) };
  }
  let flags = vp8x.data[0]!;
  if (icc) flags |= 0x20;
  if (exif) flags |= 0x08;
  if (hasAlpha) flags |= 0x10;
  vp8x.data[0] = flags;
  const out: RiffChunk[] = [vp8x];
  if (icc) out.push({ type: 'ICCP', data: icc });
  const xmp = body.filter((c) => c.type === 'XMP ');
  out.push(...body.filter((c) => c.type !== 'XMP ' && c.type !== 'EXIF'), ...body.filter((c) => c.type === 'EXIF'));
  if (exif) out.push({ type: 'EXIF', data: exif });
  out.push(...xmp);
  const payload = Buffer.concat(out.map(riffChunk));
  const h = Buffer.alloc(12);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(payload.length + 4, 4);
  h.write('WEBP', 8, 'latin1');
  return Buffer.concat([h, payload]);
}

// ---- TIFF -----------------------------------------------------------------------------------

const TAG_ICC = 34675;

/**
 * Sets the ICC profile tag (34675) of a classic TIFF's first IFD: the profile and a rewritten
 * IFD0 (entries sorted, the new tag included) are appended and the header points at the new IFD.
 */
export function tiffWithIcc(tif: Buffer, icc: Buffer): Buffer {
  const le = tif[0] === 0x49;
  if (tif[2] !== (le ? 42 : 0) || tif[3] !== (le ? 0 : 42)) throw new Error('only classic TIFF (not BigTIFF) can carry an ICC profile here');
  const u16 = (o: number): number => (le ? tif.readUInt16LE(o) : tif.readUInt16BE(o));
  const u32 = (o: number): number => (le ? tif.readUInt32LE(o) : tif.readUInt32BE(o));
  const ifd = u32(4);
  const n = u16(ifd);
  const entries: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const e = tif.subarray(ifd + 2 + 12 * i, ifd + 14 + 12 * i);
    if (u16(ifd + 2 + 12 * i) !== TAG_ICC) entries.push(Buffer.from(e));
  }
  const next = u32(ifd + 2 + 12 * n);
  let end = tif.length + (tif.length % 2);
  const iccOffset = end;
  end += icc.length + (icc.length % 2);
  const ifdOffset = end;
  const entry = Buffer.alloc(12);
  const w16 = (b: Buffer, v: number, o: number): void => { if (le) b.writeUInt16LE(v, o); else b.writeUInt16BE(v, o); };
  const w32 = (b: Buffer, v: number, o: number): void => { if (le) b.writeUInt32LE(v, o); else b.writeUInt32BE(v, o); };
  w16(entry, TAG_ICC, 0); w16(entry, 7, 2); w32(entry, icc.length, 4); w32(entry, iccOffset, 8);
  entries.push(entry);
  const tagOf = (b: Buffer): number => (le ? b.readUInt16LE(0) : b.readUInt16BE(0));
  entries.sort((a, b) => tagOf(a) - tagOf(b));
  const ifdBuf = Buffer.alloc(2 + 12 * entries.length + 4);
  w16(ifdBuf, entries.length, 0);
  entries.forEach((e, i) => e.copy(ifdBuf, 2 + 12 * i));
  w32(ifdBuf, next, 2 + 12 * entries.length);
  const head = Buffer.from(tif);
  w32(head, ifdOffset, 4);
  const pad = (k: number): Buffer => Buffer.alloc(k % 2);
  return Buffer.concat([head, pad(tif.length), icc, pad(icc.length), ifdBuf]);
}
