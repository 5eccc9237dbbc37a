// The report's pictures: every panel is an 8-bit RGB PNG made by vpdsr's own image I/O, so what a
// person sees is pixel for pixel what the metrics measured (no lossy re-encoding, no resizing).
// Files are decoded and re-encoded rather than copied: that drops alpha, applies EXIF orientation
// as readImage does, and strips ICC profiles that a browser would otherwise apply to the pixels.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { encodeImage, readImage } from '../../io/image/index.js';
import { BicubicUpscaler } from '../../models/bicubic.js';

export interface PanelPicture {
  png: Buffer;
  width: number;
  height: number;
}

/** [1, C, H, W] with C = 1–4 → [1, 3, H, W]: grey expanded, alpha dropped (the metrics' reading). */
function toRgb(t: Tensor): Tensor {
  const c = t.size(1);
  if (c === 3) return t;
  if (c === 4) return t.narrow(1, 0, 3);
  return t.narrow(1, 0, 1).expand(1, 3, t.size(2), t.size(3));
}

async function encode(t: Tensor): Promise<PanelPicture> {
  const png = await encodeImage(t, { format: 'png' });
  return { png, width: t.size(3), height: t.size(2) };
}

/** A file as the report shows it: decoded, RGB, re-encoded as PNG. */
export async function filePicture(file: string): Promise<PanelPicture> {
  const img = await readImage(file);
  const rgb = torch.scope(() => torch.keep(toRgb(img.data).contiguous()));
  try {
    return await encode(rgb);
  } finally {
    rgb.dispose();
    img.data.dispose();
  }
}

/**
 * The two pictures made from an LR file: nearest-neighbour ×4 (each LR pixel a 4×4 block) and
 * vpdsr's bicubic ×4 (PyTorch's kernel, clamped, rounded half to even when encoded to 8 bits).
 */
export async function lrPictures(file: string): Promise<{ lr: PanelPicture; bicubic: PanelPicture }> {
  const img = await readImage(file);
  const bicubic = new BicubicUpscaler();
  try {
    const [near, bic] = torch.scope(() => {
      const rgb = toRgb(img.data).contiguous();
      return [
        torch.keep(torch.interpolate(rgb, { scaleFactor: 4, mode: 'nearest' })),
        torch.keep(bicubic.upscale(rgb)),
      ];
    });
    try {
      return { lr: await encode(near), bicubic: await encode(bic) };
    } finally {
      near.dispose();
      bic.dispose();
    }
  } finally {
    img.data.dispose();
    bicubic.dispose();
  }
}
