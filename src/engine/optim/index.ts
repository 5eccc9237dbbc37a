// torch.optim: AdamW, learning-rate schedules, gradient clipping and the EMA of a model.
export { AdamW, flattenOptimizerState, unflattenOptimizerState, type AdamWOptions, type ParamGroup, type AdamWParamState, type AdamWStateDict } from './adamw.js';
export { LRScheduler, CosineAnnealingLR, MultiStepLR, WarmupLR, type AfterWarmup, type SchedulerState, type WarmupLRState, type HasParamGroups } from './lr_scheduler.js';
export { clipGradNorm_ } from './clip.js';
export { EMA, type EMAOptions, type KeyMatcher } from './ema.js';
export { pythonPow } from './scalar.js';
