// UNetModelSwin and its parts (MODEL_SPEC §2).
export { UNetModelSwin, UNetInputError, TimestepEmbedSequential } from './unet.js';
export { type UNetConfig, UNET_DEFAULTS, RELEASED_UNET, RELEASED_UNET_PARAMETERS, UNetConfigError, unetConfig, fromSinSRConfig, swinHeads } from './config.js';
export { ResBlock, Upsample, Downsample, GroupNorm32, normalization } from './resblock.js';
export { BasicLayer, SwinTransformerBlock, WindowAttention, Mlp, PatchEmbed, PatchUnEmbed, windowPartition, windowReverse, clampWindow, clearSwinMaskCache } from './swin.js';
export { calculateMask, calculateMaskData, relativePositionIndex, relativePositionIndexData, type SwinMaskMode } from './swin_mask.js';
export { timestepEmbedding } from './timestep.js';
