// torch.fft (fft2, ifft2, rfft2, irfft2) and complex helpers. Complex results are complex64
// tensors; viewAsReal gives their [..., 2] float view.
import { Tensor } from '../tensor.js';
import { callT } from '../dispatch.js';
import * as c from '../check.js';
import { T } from './util.js';

export type FftNorm = 'backward' | 'forward' | 'ortho';

function args(op: string, x: Tensor, s: number[] | undefined, dim: number[], norm: FftNorm | undefined) {
  T(op, 'input', x);
  if (x.ndim < 2) throw new c.ArgumentError(op, 'input', 'needs at least 2 dimensions');
  const d = c.dims(op, 'dim', dim, x.ndim);
  const sz = s === undefined ? null : c.intList(op, 's', s, { len: d.length, min: 1, max: 2 ** 24 });
  const n = norm === undefined ? null : c.str(op, 'norm', norm, ['backward', 'forward', 'ortho'] as const);
  return [x, sz, d, n] as const;
}

export function fft2(x: Tensor, s?: number[], dim: number[] = [-2, -1], norm?: FftNorm): Tensor { return callT('fft_fft2', '', [...args('fft2', x, s, dim, norm)]); }
export function ifft2(x: Tensor, s?: number[], dim: number[] = [-2, -1], norm?: FftNorm): Tensor { return callT('fft_ifft2', '', [...args('ifft2', x, s, dim, norm)]); }
export function rfft2(x: Tensor, s?: number[], dim: number[] = [-2, -1], norm?: FftNorm): Tensor { return callT('fft_rfft2', '', [...args('rfft2', x, s, dim, norm)]); }
export function irfft2(x: Tensor, s?: number[], dim: number[] = [-2, -1], norm?: FftNorm): Tensor { return callT('fft_irfft2', '', [...args('irfft2', x, s, dim, norm)]); }
export function fftshift(x: Tensor, dim: number[] = [-2, -1]): Tensor {
  T('fftshift', 'input', x);
  const d = c.dims('fftshift', 'dim', dim, x.ndim);
  return callT('roll', '', [x, d.map((i) => Math.floor(x.size(i) / 2)), d]);
}
export function viewAsReal(x: Tensor): Tensor { return callT('view_as_real', '', [T('viewAsReal', 'input', x)]); }
export function viewAsComplex(x: Tensor): Tensor {
  T('viewAsComplex', 'input', x);
  if (x.ndim === 0 || x.size(-1) !== 2) throw new c.ArgumentError('viewAsComplex', 'input', 'must have a last dimension of size 2');
  // float16 would give complex32, a dtype the engine does not support.
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new c.ArgumentError('viewAsComplex', 'input', `must be float32 or float64, got ${x.dtype}`);
  return callT('view_as_complex', '', [x]);
}
export function real(x: Tensor): Tensor { return callT('real', '', [T('real', 'input', x)]); }
export function imag(x: Tensor): Tensor { return callT('imag', '', [T('imag', 'input', x)]); }
export function complexAbs(x: Tensor): Tensor { return callT('abs', '', [T('abs', 'input', x)]); }
export function angle(x: Tensor): Tensor { return callT('angle', '', [T('angle', 'input', x)]); }
