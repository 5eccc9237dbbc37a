// VQModelTorch — ResShift@3ce1d81:ldm/models/autoencoder.py (MODEL_SPEC.md §3.6): encode without
// quantisation, decode with nearest-codebook quantisation (straight-through gradient).
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { Module, Conv2d, GroupNorm, Parameter, type ToOptions } from '../../engine/nn/index.js';
import { Encoder } from './encoder.js';
import { Decoder } from './decoder.js';
import { VectorQuantizer2, type QuantizeResult } from './quantize.js';
import { checkVQConfig, VQ_F4, type VQConfig } from './config.js';
import { VQError, setWelfordGroupNorm } from './layers.js';

export interface DecodeOptions {
  /** force_not_quantize: skip the codebook (decode a latent as is). */
  forceNotQuantize?: boolean;
  /** Straight-through gradient z + (z_q − z).detach() (upstream, default); false: z_q = E[idx]. */
  straightThrough?: boolean;
  /** Called with the quantiser's result (indices, z_q, loss) before decoding; valid during the call. */
  onQuantize?: (q: QuantizeResult) => void;
}

export class VQModelTorch extends Module {
  readonly config: VQConfig;
  encoder: Encoder;
  decoder: Decoder;
  quantize: VectorQuantizer2;
  quant_conv: Conv2d;
  post_quant_conv: Conv2d;
  /** Latent side = image side / downFactor (4 for VQ-f4). */
  readonly downFactor: number;

  constructor(config: VQConfig = VQ_F4) {
    super();
    const cfg = checkVQConfig(config);
    this.config = config;
    this.encoder = new Encoder(cfg.ddconfig);
    this.decoder = new Decoder(cfg.ddconfig);
    this.quantize = new VectorQuantizer2(cfg.n_embed, cfg.embed_dim, 0.25, { legacy: true });
    this.quant_conv = new Conv2d(cfg.ddconfig.z_channels, cfg.embed_dim, 1);
    this.post_quant_conv = new Conv2d(cfg.embed_dim, cfg.ddconfig.z_channels, 1);
    this.downFactor = 2 ** (cfg.ddconfig.ch_mult.length - 1);
  }

  /** x in the dtype of the conv it goes to (a mixed-precision plan may keep some in fp32), and channels-last when its conv weights are (then every activation is). */
  private prepare(x: Tensor, to: Conv2d): Tensor {
    const cl = this.encoder.conv_in.weight.isContiguous('channels_last') && !this.encoder.conv_in.weight.isContiguous();
    const dtype = x.dtype === to.weight.dtype ? undefined : to.weight.dtype;
    const wantCl = cl && !x.isContiguous('channels_last');
    if (!dtype && !wantCl) return x;
    return x.to({ dtype, memoryFormat: wantCl ? 'channels_last' : undefined });
  }
  private get paramDevice(): string { return this.quant_conv.weight.device; }

  /** Input checks shared by encode/decode: one clear line instead of an ATen error. */
  private checkInput(op: string, x: unknown, channels: number): Tensor {
    if (!(x instanceof Tensor)) throw new VQError(`VQ ${op}: input must be a Tensor`);
    if (x.isDisposed) throw new VQError(`VQ ${op}: input tensor was disposed`);
    if (x.ndim !== 4 || x.size(1) !== channels) throw new VQError(`VQ ${op}: input must be [B, ${channels}, H, W], got [${x.shape.join(', ')}]`);
    if (x.size(0) < 1 || x.size(2) < 1 || x.size(3) < 1) throw new VQError(`VQ ${op}: input is empty [${x.shape.join(', ')}]`);
    if (!torch.isFloating(x.dtype)) throw new VQError(`VQ ${op}: input must be floating point, got ${x.dtype}`);
    const dev = this.paramDevice;
    const norm = (d: string): string => (d === 'cuda' ? 'cuda:0' : d);
    if (norm(x.device) !== norm(dev)) throw new VQError(`VQ ${op}: input is on ${x.device}, the model on ${dev}`);
    return x;
  }

  /** encode(x) = quant_conv(encoder(x)), no quantisation; x [B, 3, H, W] → [B, embed_dim, ⌊⌊H/2⌋/2⌋, ⌊⌊W/2⌋/2⌋]. */
  encode(x: Tensor): Tensor {
    this.checkInput('encode', x, this.encoder.in_channels);
    // Each Downsample pads one row/column and runs a 3×3 stride-2 conv: sides must stay ≥ 2.
    let hh = x.size(2), ww = x.size(3);
    for (let i = 0; i < this.encoder.num_resolutions - 1; i++) {
      if (hh < 2 || ww < 2) throw new VQError(`VQ encode: image [${x.size(2)}, ${x.size(3)}] is too small (each side must be at least ${2 ** (this.encoder.num_resolutions - 1)})`);
      hh = Math.floor(hh / 2); ww = Math.floor(ww / 2);
    }
    return torch.scope(() => {
      const h = this.encoder.forward(this.prepare(x, this.encoder.conv_in));
      return this.quant_conv.forward(this.prepare(h, this.quant_conv));
    });
  }

  /** decode(h) = decoder(post_quant_conv(quantize(h))); h [B, embed_dim, h, w] → [B, out_ch, 4h, 4w]. */
  decode(h: Tensor, opts: DecodeOptions = {}): Tensor {
    this.checkInput('decode', h, this.quantize.e_dim);
    return torch.scope(() => {
      let quant = h;
      if (!opts.forceNotQuantize) {
        // An f32 latent is quantised in f32 even by a bf16 model (its codebook stays f32, see to()):
        // the nearest-code decision is the f32 one, and only z_q is rounded.
        const q = this.quantize.forward(h.dtype === 'float32' || h.dtype === 'float64' ? h : this.prepare(h, this.quant_conv), { straightThrough: opts.straightThrough });
        opts.onQuantize?.(q);
        quant = q.zQ;
      }
      const z = this.post_quant_conv.forward(this.prepare(quant, this.post_quant_conv));
      return this.decoder.forward(z);
    });
  }

  /**
   * Module.to, except that a cast to bf16/f16 keeps the codebook (8192×3) in f32: rounding the
   * code vectors to 8 mantissa bits would move every nearest-code decision (vpdsr decision).
   */
  override to(opts: ToOptions): this {
    const low = opts !== null && typeof opts === 'object' && opts.dtype !== undefined && torch.isLowPrecision(opts.dtype);
    if (!low) return super.to(opts);
    const emb = this.quantize.embedding;
    const keepF32 = emb.weight.dtype === 'float32' ? torch.keep(torch.noGrad(() => emb.weight.detach().clone())) : undefined;
    super.to(opts);
    if (keepF32) {
      const cast = emb.weight;
      emb.weight = Parameter(keepF32.to({ device: cast.device }), cast.requiresGrad);
      keepF32.dispose();
      cast.dispose();
    }
    return this;
  }

  /**
   * 'welford': every GroupNorm takes f32 channels-last input through Welford statistics (accurate
   * to ~1e-7 like the contiguous kernel, about 4× the native kernel's time); 'native' (default):
   * LibTorch's kernel. See setWelfordGroupNorm for the measured errors.
   */
  setGroupNormMode(mode: 'native' | 'welford'): this {
    if (mode !== 'native' && mode !== 'welford') throw new VQError(`VQ: group-norm mode must be 'native' or 'welford', got ${JSON.stringify(mode)}`);
    for (const m of this.modules()) if (m instanceof GroupNorm) setWelfordGroupNorm(m, mode === 'welford');
    return this;
  }

  /** forward(input) = decode(encode(input)). */
  forward(x: Tensor, opts: DecodeOptions = {}): Tensor {
    return torch.scope(() => this.decode(this.encode(x), opts));
  }
}
