// UNetModelSwin configuration: upstream's constructor arguments under their upstream names
// (ResShift@3ce1d81:models/unet.py UNetModelSwin.__init__), with upstream defaults, the released
// configuration (MODEL_SPEC §2.1), validation, and SinSR's constructor form (§2.5).
import type { SwinMaskMode } from './swin_mask.js';

export interface UNetConfig {
  /** Configured latent size: fixes each level's Swin resolution (window clamp, buffer mask). */
  image_size: number;
  /** Latent channels (ResShift HEAD form: the LQ channels are added by the model). */
  in_channels: number;
  model_channels: number;
  out_channels: number;
  num_res_blocks: number[];
  /** Compared with the running `ds`, which starts at image_size and halves per level. */
  attention_resolutions: number[];
  dropout: number;
  channel_mult: number[];
  conv_resample: boolean;
  num_heads: number;
  /** −1: Swin heads = num_heads; else heads = swin_embed_dim / num_head_channels. */
  num_head_channels: number;
  use_scale_shift_norm: boolean;
  resblock_updown: boolean;
  swin_depth: number;
  swin_embed_dim: number;
  window_size: number;
  mlp_ratio: number;
  patch_norm: boolean;
  cond_lq: boolean;
  cond_mask: boolean;
  /** LQ size; ≠ image_size adds the feature extractor (log2(lq_size / image_size) stages). */
  lq_size: number;
  /** vpdsr: the shifted-window mask; only 'upstream' is valid for released weights (§2.4.5). */
  swin_mask: SwinMaskMode;
  /** vpdsr: groups of every GroupNorm (upstream's GroupNorm32 = 32); small pixel-space UNets use 8. */
  norm_groups: number;
  /** vpdsr: the Swin layer of the middle block (upstream always has it); false gives a UNet without attention. */
  middle_attention: boolean;
  /**
   * vpdsr, unshuffled pixel space only (48 channels, lq_size = image_size): x̂₀ is the network's output
   * plus the 4×4 pixel-unshuffle of the bicubic ×4 LR, so the network learns the residual over
   * bicubic. Absent = false (every upstream model).
   */
  lq_residual?: boolean;
}

/** The constructor defaults of UNetModelSwin (arguments without a default have none here either). */
export const UNET_DEFAULTS = {
  dropout: 0,
  channel_mult: [1, 2, 4, 8],
  conv_resample: true,
  num_heads: 1,
  num_head_channels: -1,
  use_scale_shift_norm: false,
  resblock_updown: false,
  swin_depth: 2,
  swin_embed_dim: 96,
  window_size: 8,
  mlp_ratio: 2.0,
  patch_norm: false,
  cond_lq: true,
  cond_mask: false,
  lq_size: 256,
  swin_mask: 'upstream',
  norm_groups: 32,
  middle_attention: true,
} as const satisfies Partial<UNetConfig>;

/** The released model (realsr_swinunet_realesrgan256[_journal].yaml, SinSR.yaml): 118,593,583 parameters. */
export const RELEASED_UNET: Readonly<UNetConfig> = Object.freeze({
  image_size: 64,
  in_channels: 3,
  model_channels: 160,
  out_channels: 3,
  num_res_blocks: [2, 2, 2, 2],
  attention_resolutions: [64, 32, 16, 8],
  dropout: 0,
  channel_mult: [1, 2, 2, 4],
  conv_resample: true,
  num_heads: 1,
  num_head_channels: 32,
  use_scale_shift_norm: true,
  resblock_updown: false,
  swin_depth: 2,
  swin_embed_dim: 192,
  window_size: 8,
  mlp_ratio: 4,
  patch_norm: false,
  cond_lq: true,
  cond_mask: false,
  lq_size: 64,
  swin_mask: 'upstream',
  norm_groups: 32,
  middle_attention: true,
});

/** The released parameter count (MODEL_SPEC §2.1, verified upstream). */
export const RELEASED_UNET_PARAMETERS = 118_593_583;

export class UNetConfigError extends Error {
  constructor(message: string) {
    super(`UNet config: ${message}`);
    this.name = 'UNetConfigError';
  }
}

const KEYS = [
  'image_size', 'in_channels', 'model_channels', 'out_channels', 'num_res_blocks', 'attention_resolutions', 'dropout',
  'channel_mult', 'conv_resample', 'num_heads', 'num_head_channels', 'use_scale_shift_norm', 'resblock_updown', 'swin_depth',
  'swin_embed_dim', 'window_size', 'mlp_ratio', 'patch_norm', 'cond_lq', 'cond_mask', 'lq_size', 'swin_mask',
  'norm_groups', 'middle_attention', 'lq_residual',
] as const;
// Upstream arguments that have no effect here and are accepted for config files as they are.
const IGNORED = new Set(['dims', 'use_fp16']);

function posInt(k: string, v: unknown, max = 1 << 16): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new UNetConfigError(`${k} must be an integer in [1, ${max}], got ${JSON.stringify(v)}`);
  return v;
}
function bool(k: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new UNetConfigError(`${k} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}
function posNum(k: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new UNetConfigError(`${k} must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}
function intList(k: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > 16) throw new UNetConfigError(`${k} must be a non-empty list of integers, got ${JSON.stringify(v)}`);
  return v.map((e, i) => posInt(`${k}[${i}]`, e));
}

/**
 * A complete, checked config from upstream-style arguments (defaults filled in). Throws a
 * UNetConfigError naming the argument for anything unknown, missing or out of range.
 */
export function unetConfig(config: Partial<UNetConfig>): UNetConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new UNetConfigError('must be an object');
  const args = config as Record<string, unknown>;
  for (const k of Object.keys(args)) if (!(KEYS as readonly string[]).includes(k) && !IGNORED.has(k)) throw new UNetConfigError(`unknown argument ${k}`);
  if (args.dims !== undefined && args.dims !== 2) throw new UNetConfigError(`only dims 2 is supported, got ${JSON.stringify(args.dims)}`);
  const a = { ...UNET_DEFAULTS, ...args } as Record<string, unknown>;
  for (const k of ['image_size', 'in_channels', 'model_channels', 'out_channels', 'num_res_blocks', 'attention_resolutions']) {
    if (a[k] === undefined) throw new UNetConfigError(`${k} is required`);
  }
  const channel_mult = a.channel_mult as unknown;
  if (!Array.isArray(channel_mult) || channel_mult.length === 0 || channel_mult.length > 16 || channel_mult.some((m) => typeof m !== 'number' || !(m > 0))) {
    throw new UNetConfigError(`channel_mult must be a non-empty list of positive numbers, got ${JSON.stringify(channel_mult)}`);
  }
  const nrb = typeof a.num_res_blocks === 'number' ? new Array<number>(channel_mult.length).fill(a.num_res_blocks) : intList('num_res_blocks', a.num_res_blocks);
  if (nrb.length !== channel_mult.length) throw new UNetConfigError(`num_res_blocks has ${nrb.length} entries, channel_mult ${channel_mult.length}`);
  const attn = a.attention_resolutions;
  if (!Array.isArray(attn) || attn.some((r) => typeof r !== 'number' || !Number.isInteger(r))) throw new UNetConfigError(`attention_resolutions must be a list of integers, got ${JSON.stringify(attn)}`);
  const cfg: UNetConfig = {
    image_size: posInt('image_size', a.image_size),
    in_channels: posInt('in_channels', a.in_channels),
    model_channels: posInt('model_channels', a.model_channels),
    out_channels: posInt('out_channels', a.out_channels),
    num_res_blocks: nrb,
    attention_resolutions: [...(attn as number[])],
    dropout: (() => { const d = a.dropout; if (typeof d !== 'number' || !(d >= 0 && d < 1)) throw new UNetConfigError(`dropout must be in [0, 1), got ${JSON.stringify(d)}`); return d; })(),
    channel_mult: [...(channel_mult as number[])],
    conv_resample: bool('conv_resample', a.conv_resample),
    num_heads: (() => { const n = a.num_heads; if (n !== -1) posInt('num_heads', n); return n as number; })(),
    num_head_channels: (() => { const n = a.num_head_channels; if (n !== -1) posInt('num_head_channels', n); return n as number; })(),
    use_scale_shift_norm: bool('use_scale_shift_norm', a.use_scale_shift_norm),
    resblock_updown: bool('resblock_updown', a.resblock_updown),
    swin_depth: posInt('swin_depth', a.swin_depth, 64),
    swin_embed_dim: posInt('swin_embed_dim', a.swin_embed_dim),
    window_size: posInt('window_size', a.window_size, 256),
    mlp_ratio: posNum('mlp_ratio', a.mlp_ratio),
    patch_norm: bool('patch_norm', a.patch_norm),
    cond_lq: bool('cond_lq', a.cond_lq),
    cond_mask: bool('cond_mask', a.cond_mask),
    lq_size: posInt('lq_size', a.lq_size, 1 << 20),
    swin_mask: (() => { const m = a.swin_mask; if (m !== 'upstream' && m !== 'correct') throw new UNetConfigError(`swin_mask must be "upstream" or "correct", got ${JSON.stringify(m)}`); return m; })(),
    norm_groups: posInt('norm_groups', a.norm_groups, 1024),
    middle_attention: bool('middle_attention', a.middle_attention),
    ...(a.lq_residual !== undefined && bool('lq_residual', a.lq_residual) ? { lq_residual: true } : {}),
  };
  if (cfg.lq_residual && (cfg.in_channels !== 48 || cfg.out_channels !== 48 || cfg.lq_size !== cfg.image_size)) {
    throw new UNetConfigError(`lq_residual needs the unshuffled pixel space: in_channels and out_channels 48 and lq_size = image_size, got ${cfg.in_channels}, ${cfg.out_channels}, ${cfg.lq_size} vs ${cfg.image_size}`);
  }
  // Derived-width checks that upstream would only hit deep inside construction.
  const heads = swinHeads(cfg);
  if (cfg.swin_embed_dim % heads !== 0) throw new UNetConfigError(`swin_embed_dim ${cfg.swin_embed_dim} is not divisible by ${heads} heads`);
  const g = cfg.norm_groups;
  for (const m of cfg.channel_mult) {
    const c = Math.trunc(m * cfg.model_channels);
    if (c % g !== 0) throw new UNetConfigError(`level width ${c} (channel_mult ${m} × model_channels ${cfg.model_channels}) must be divisible by ${g} (GroupNorm with norm_groups ${g})`);
  }
  const swinUsed = cfg.middle_attention || cfg.attention_resolutions.length > 0;
  if (swinUsed && cfg.swin_embed_dim % 32 !== 0) throw new UNetConfigError(`swin_embed_dim ${cfg.swin_embed_dim} must be divisible by 32 (GroupNorm32)`);
  if (cfg.image_size % 2 ** (cfg.channel_mult.length - 1) !== 0) throw new UNetConfigError(`image_size ${cfg.image_size} must be divisible by 2^${cfg.channel_mult.length - 1}`);
  if (cfg.lq_size !== cfg.image_size) {
    const r = cfg.lq_size / cfg.image_size;
    if (!Number.isInteger(Math.log2(r)) || r < 2) throw new UNetConfigError(`lq_size ${cfg.lq_size} must equal image_size ${cfg.image_size} or be a power-of-two multiple of it`);
  }
  // Upstream's cond_lq = false branch builds an unusable 16-channel input; cond_mask is inpainting only.
  if (!cfg.cond_lq) throw new UNetConfigError('cond_lq false is not supported (every ResShift/SinSR model conditions on the LQ image)');
  if (cfg.cond_mask) throw new UNetConfigError('cond_mask true (inpainting) is not supported');
  return cfg;
}

/** Heads of every Swin layer. */
export function swinHeads(cfg: UNetConfig): number {
  return cfg.num_head_channels === -1 ? cfg.num_heads : Math.floor(cfg.swin_embed_dim / cfg.num_head_channels);
}

/**
 * SinSR@f173549's constructor form (`in_channels` includes the 3 LQ channels, no `lq_size`) as the
 * equivalent ResShift form: identical keys and function when lq has the latent's size (§2.5).
 */
export function fromSinSRConfig(args: Record<string, unknown>): UNetConfig {
  const { in_channels, ...rest } = args;
  if (typeof in_channels !== 'number') throw new UNetConfigError('in_channels is required');
  if ('lq_size' in rest) throw new UNetConfigError('SinSR configs have no lq_size');
  if (typeof rest.image_size !== 'number') throw new UNetConfigError('image_size is required');
  const lqChannels = 3;
  if (in_channels <= lqChannels) throw new UNetConfigError(`SinSR in_channels ${in_channels} must include the ${lqChannels} LQ channels`);
  return unetConfig({ ...rest, in_channels: in_channels - lqChannels, lq_size: rest.image_size as number } as Partial<UNetConfig>);
}
