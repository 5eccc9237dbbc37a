// Mixed precision: a per-module dtype plan for a network (bf16 modules with some kept in fp32),
// the casts at the boundaries between modules of different dtypes, and the default pipeline dtype
// of a device. The 'auto' plan is chosen by measurement: bench/models/precision.ts switches each
// stage between fp32 and bf16 and reports the 8-bit output PSNR against an fp32 run.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { Module, GroupNorm } from '../engine/nn/index.js';

/**
 * Module paths (state-dict prefixes, e.g. 'decoder.up.0') kept in fp32 when the rest of a network
 * runs in bf16. Inputs are cast where the networks pass between their modules: the VQ's encoder and
 * decoder children, their levels' blocks, the mid block's parts; the UNet's blocks and `out`.
 */
export interface PrecisionPlan {
  /** The VQ autoencoder's (VQModelTorch) modules. */
  vq: readonly string[];
  /** The UNet's (UNetModelSwin) modules. */
  unet: readonly string[];
}

/**
 * A plan path ending in this ('decoder.mid#norms') keeps only the GroupNorms under the module in
 * fp32: its blocks then take and return fp32 (their residual sums stay fp32) while their
 * convolutions and attention run in bf16 (vq/resnet.ts, vq/attention.ts cast per child).
 */
export const NORMS = '#norms';

/**
 * The 'auto' plan, measured with bench/models/precision.ts (8-bit output PSNR against fp32). GroupNorm
 * statistics and the quantiser's distances are f32 in every mode already (vq/layers.ts groupNorm,
 * vq/quantize.ts nearest, unet GroupNorm32). Full-size SinSR architecture, random weights, bf16
 * 42.7 dB: the loss is spread over the VQ decoder, largest at its low-resolution end, whose
 * rounding is upsampled into every output pixel (fp32 mid block 44.6 dB, + the lowest level up.2
 * 46.5 dB, + up.1 49.0 dB, the whole decoder 53.6 dB; the encoder and the UNet change little: the
 * decoder sees codebook vectors). The mid block's attention alone is not sensitive (bf16 + it in
 * fp32: 42.3 dB), so its products run in bf16 with its norm and residual sum in fp32: 46.8 dB, against
 * 47.9 dB with it all fp32, for 11% of the pipeline's FLOP at the bf16 matmul rate (twice f32's).
 * An fp32 residual stream around bf16 convolutions (only the GroupNorms fp32) gives 44.3 dB in the
 * mid block and up.2, 44.4 dB in the whole decoder: the loss is the convolutions' rounding.
 * The bundled pixel-space model: bf16 41.3 dB, 60.8 dB
 * with the UNet's output layer alone in fp32 (its output is the picture, its LR residual is added
 * in f32); with everything else fp32, the output blocks in bf16 give 60.6 dB, the output layer in
 * bf16 39.6 dB. The output layers are cheap and stay fp32 in both networks.
 */
export const AUTO_PLAN: PrecisionPlan = {
  vq: ['post_quant_conv', 'decoder.conv_in', 'decoder.mid.block_1', `decoder.mid.attn_1${NORMS}`, 'decoder.mid.block_2', 'decoder.up.2',
    'decoder.norm_out', 'decoder.conv_out'],
  unet: ['out'],
};

/** The dtype a module computes in: its first floating-point parameter's (undefined without one). */
export function moduleDType(m: Module): torch.DType | undefined {
  for (const p of m.parameters()) if (torch.isFloating(p.dtype)) return p.dtype;
  return undefined;
}

/** x in the dtype module m computes in: x itself when it already is (or m has no parameters), else a new tensor. */
export function castFor(m: Module | undefined, x: Tensor): Tensor {
  const dt = m ? moduleDType(m) : undefined;
  return dt === undefined || dt === x.dtype || !torch.isFloating(x.dtype) ? x : x.to({ dtype: dt });
}

/**
 * Runs `cast` (which casts the whole network to a reduced precision) with the listed submodules of
 * `net` (paths as in its state dict, '' = all of it) kept in fp32 at their exact values: they are
 * copied before the cast and restored into fp32 tensors after it (casting back would keep the
 * bf16 rounding). Parameters keep their names and shapes. Throws one line naming a path the
 * network lacks.
 */
export function castKeepingFp32(net: Module, paths: readonly string[], cast: () => void): void {
  const named = net.namedModules();
  const byPath = new Map(named);
  const kept = paths.flatMap((p) => {
    const norms = p.endsWith(NORMS);
    const base = norms ? p.slice(0, -NORMS.length) : p;
    const m = byPath.get(base);
    if (!m) throw new RangeError(`precision plan: the network has no module ${JSON.stringify(base)}`);
    if (!norms) return [m];
    const under = base === '' ? '' : `${base}.`;
    return named.filter(([q, c]) => (base === '' || q.startsWith(under)) && c instanceof GroupNorm).map(([, c]) => c);
  });
  const saved = kept.map((m) => new Map([...m.stateDict()].map(([k, t]) => [k, torch.keep(torch.noGrad(() => t.detach().to({ dtype: torch.isFloating(t.dtype) ? 'float32' : t.dtype, copy: true })))])));
  try {
    cast();
    kept.forEach((m, i) => {
      m.to({ dtype: 'float32' });
      m.loadStateDict(saved[i]!);
    });
  } finally {
    for (const s of saved) for (const t of s.values()) t.dispose();
  }
}

/** The CPU flags that make bf16 fast (native bf16 dot products or AMX tiles). */
export const BF16_CPU_FLAGS = ['avx512_bf16', 'amx_bf16'] as const;

/**
 * The pipeline dtype used when none is given: 'auto' on CUDA and on CPUs with AVX512_BF16 or AMX
 * (where bf16 is about twice as fast as fp32), fp32 elsewhere (bf16 is emulated there and slower).
 * `cpuFlags` is /proc/cpuinfo's flags (read once when not given).
 */
export function defaultDType(device: string, cpuFlags: readonly string[] = cachedCpuFlags()): 'fp32' | 'auto' {
  if (device.startsWith('cuda')) return 'auto';
  return BF16_CPU_FLAGS.some((f) => cpuFlags.includes(f)) ? 'auto' : 'fp32';
}

let flagsCache: readonly string[] | undefined;
function cachedCpuFlags(): readonly string[] {
  flagsCache ??= torch.cpuFeatures().flags;
  return flagsCache;
}
