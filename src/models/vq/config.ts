// VQModelTorch configuration (MODEL_SPEC.md §3.1): the `ddconfig` of Encoder/Decoder and the
// quantiser sizes, under upstream's names, with the released VQ-f4 values.
import { VQError } from './layers.js';

export interface DDConfig {
  double_z: boolean;
  z_channels: number;
  /** Only sets an unused z_shape, and the running resolution compared with attn_resolutions. */
  resolution: number;
  in_channels: number;
  out_ch: number;
  ch: number;
  ch_mult: number[];
  /** An int (every level) or one entry per level. */
  num_res_blocks: number | number[];
  attn_resolutions: number[];
  dropout: number;
  /** Learned 3×3 convs in Up/Downsample (default true). */
  resamp_with_conv?: boolean;
  /** Swallowed by **ignore_kwargs upstream: no effect. */
  padding_mode?: string;
  give_pre_end?: boolean;
  tanh_out?: boolean;
}

export interface VQConfig {
  ddconfig: DDConfig;
  n_embed: number;
  embed_dim: number;
  remap?: null;
  sane_index_shape?: boolean;
}

/** `autoencoder.params` of every realsr config: autoencoder_vq_f4.pth, 55,322,782 parameters, 205 keys. */
export const VQ_F4: Readonly<VQConfig> = Object.freeze({
  ddconfig: Object.freeze({
    double_z: false, z_channels: 3, resolution: 256, in_channels: 3, out_ch: 3, ch: 128,
    ch_mult: [1, 2, 4], num_res_blocks: 2, attn_resolutions: [], dropout: 0.0, padding_mode: 'zeros',
  }) as DDConfig,
  n_embed: 8192,
  embed_dim: 3,
  remap: null,
  sane_index_shape: false,
});

export const VQ_F4_PARAMETERS = 55_322_782;
export const VQ_F4_KEYS = 205;

function posInt(what: string, v: unknown, max = 1 << 20): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new VQError(`VQ config: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Checks a config and returns it with num_res_blocks expanded to one entry per level. */
export function checkVQConfig(cfg: unknown): VQConfig & { ddconfig: DDConfig & { num_res_blocks: number[] } } {
  if (cfg === null || typeof cfg !== 'object') throw new VQError('VQ config: expected an object { ddconfig, n_embed, embed_dim }');
  const c = cfg as VQConfig;
  const d = c.ddconfig;
  if (d === null || typeof d !== 'object') throw new VQError('VQ config: ddconfig is missing');
  posInt('n_embed', c.n_embed, 1 << 24);
  posInt('embed_dim', c.embed_dim, 4096);
  if (c.remap !== undefined && c.remap !== null) throw new VQError('VQ config: remap is not supported');
  if (typeof d.double_z !== 'boolean') throw new VQError('VQ config: ddconfig.double_z must be a boolean');
  if (d.double_z) throw new VQError('VQ config: double_z is for the KL autoencoder; VQModelTorch needs double_z false');
  for (const k of ['z_channels', 'resolution', 'in_channels', 'out_ch', 'ch'] as const) posInt(`ddconfig.${k}`, d[k]);
  if (!Array.isArray(d.ch_mult) || d.ch_mult.length < 1 || d.ch_mult.length > 12) throw new VQError('VQ config: ddconfig.ch_mult must be a non-empty array');
  d.ch_mult.forEach((m, i) => posInt(`ddconfig.ch_mult[${i}]`, m, 1024));
  const L = d.ch_mult.length;
  const nrb = typeof d.num_res_blocks === 'number' ? new Array<number>(L).fill(d.num_res_blocks) : d.num_res_blocks;
  if (!Array.isArray(nrb) || nrb.length !== L) throw new VQError(`VQ config: ddconfig.num_res_blocks must be an integer or ${L} integers`);
  nrb.forEach((v, i) => { if (!Number.isInteger(v) || v < 0 || v > 64) throw new VQError(`VQ config: num_res_blocks[${i}] must be an integer from 0 to 64, got ${v}`); });
  if (!Array.isArray(d.attn_resolutions)) throw new VQError('VQ config: ddconfig.attn_resolutions must be an array');
  if (typeof d.dropout !== 'number' || d.dropout !== 0) throw new VQError('VQ config: only dropout 0 is supported (inference and frozen use)');
  if (d.give_pre_end || d.tanh_out) throw new VQError('VQ config: give_pre_end and tanh_out are not supported');
  // GroupNorm(32, C) needs every width divisible by 32.
  for (const m of [1, ...d.ch_mult]) {
    if ((d.ch * m) % 32 !== 0) throw new VQError(`VQ config: width ch·${m} = ${d.ch * m} is not divisible by the 32 GroupNorm groups`);
  }
  return { ...c, ddconfig: { ...d, num_res_blocks: nrb } };
}
