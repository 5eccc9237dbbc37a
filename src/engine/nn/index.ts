// torch.nn: Module and the layers vpdsr's models use; nn.init as `init`.
export { Module, Parameter, isParameter, type StateDict, type LoadResult, type ToOptions, type TensorModule } from './module.js';
export { Conv2d, ConvTranspose2d, type Conv2dOptions, type ConvTranspose2dOptions, type FactoryOptions, type PaddingMode } from './conv.js';
export { Linear, Identity, Embedding } from './linear.js';
export { GroupNorm, LayerNorm, BatchNorm2d, type BatchNormOptions } from './norm.js';
export { SiLU, GELU, ReLU, Dropout } from './activation.js';
export { Sequential, ModuleList, ModuleDict } from './container.js';
export * as init from './init.js';
export { DataParallel, type DataParallelOptions } from './parallel.js';
