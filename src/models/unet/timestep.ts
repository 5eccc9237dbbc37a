// Sinusoidal timestep embedding — ResShift@3ce1d81:models/basic_ops.py timestep_embedding.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';

/**
 * [N] timesteps (any real dtype; raw code indices, no rescaling) → [N, dim] float32 embedding,
 * `cat([cos(args), sin(args)])` with `args = float(t)·exp(−ln(maxPeriod)·j/half)`, cos first.
 * The frequencies are computed in float32 in upstream's order (multiply, then divide, then exp).
 */
export function timestepEmbedding(timesteps: Tensor, dim: number, maxPeriod = 10000): Tensor {
  if (!(timesteps instanceof Tensor) || timesteps.isDisposed) throw new TypeError('timestepEmbedding(): timesteps must be a live Tensor');
  if (timesteps.ndim !== 1) throw new RangeError(`timestepEmbedding(): timesteps must be 1-D [N], got [${timesteps.shape.join(', ')}]`);
  if (!Number.isInteger(dim) || dim < 2) throw new RangeError(`timestepEmbedding(): dim must be an integer >= 2, got ${dim}`);
  if (!(maxPeriod > 0) || !Number.isFinite(maxPeriod)) throw new RangeError(`timestepEmbedding(): maxPeriod must be a positive number, got ${maxPeriod}`);
  return torch.scope(() => {
    const half = Math.floor(dim / 2);
    const freqs = torch.arange(0, half, 1, { dtype: 'float32', device: timesteps.device })
      .mul(-Math.log(maxPeriod)).div(half).exp();
    const args = timesteps.unsqueeze(1).float().mul(freqs.unsqueeze(0)); // N x half
    let emb = torch.cat([args.cos(), args.sin()], -1);
    if (dim % 2) emb = torch.cat([emb, torch.zerosLike(emb.slice(1, 0, 1))], -1);
    return emb;
  });
}
