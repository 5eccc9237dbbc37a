// The VQ-f4 autoencoder (MODEL_SPEC.md §3): VQModelTorch and its parts.
export { VQModelTorch, type DecodeOptions } from './autoencoder.js';
export { VQ_F4, VQ_F4_PARAMETERS, VQ_F4_KEYS, checkVQConfig, type VQConfig, type DDConfig } from './config.js';
export { Encoder, MidBlock } from './encoder.js';
export { Decoder } from './decoder.js';
export { VectorQuantizer2, type QuantizeResult } from './quantize.js';
export { AttnBlock, DEFAULT_ATTN_SCORE_BUDGET } from './attention.js';
export { ResnetBlock } from './resnet.js';
export { Normalize, Upsample, Downsample, VQError, swish_ } from './layers.js';
