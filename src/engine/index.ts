// The engine: a PyTorch-shaped tensor library on LibTorch. Import as `import * as torch from './engine/index.js'`.
export { Tensor, type MemoryFormat, type Device } from './tensor.js';
export { type DType, parseDType, isFloating, isLowPrecision, ITEM_SIZE } from './dtype.js';
export { scope, keep, scopeDepth } from './scope.js';
export { noGrad, enableGrad, isGradEnabled, grad } from './autograd.js';
export * from './runtime.js';
export * from './ops/index.js';
export { ArgumentError } from './check.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as distributed from './distributed.js';
