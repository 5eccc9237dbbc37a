// vpdsr as a library: `await loadModel(spec)` once, then `await upscale(input, options)` per image.
//
// ```ts
// import { loadModel, upscale } from 'vpdsr';
// const model = await loadModel({ model: 'bicubic' });           // or a model name, { model: DIR } / { preset, unet, vq }
// const png: Buffer = await upscale('photo.jpg', { model, outscale: 2 });
// await upscale(buffer, { model, output: 'out/photo.webp', quality: 90, signal, onProgress });
// model.dispose();
// ```
// Inputs: a file path, encoded bytes (Buffer / Uint8Array), typed pixels
// `{ data: Uint8Array | Uint16Array | Float32Array, width, height, channels }` (HWC interleaved)
// or a sharp instance. Options are the CLI's (docs/upscale.md), checked by one schema
// (src/api/schema.ts): an unknown option is an OptionError with a did-you-mean. Errors are one
// line and exported classes with a `code`. The model computes in a worker thread of its own
// (src/api/remote.ts), so the caller's event loop stays free and an AbortSignal stops a job at
// its next tile. This file only re-exports: each function lives in its own module.

export { upscale, upscaleOptionsSchema, type UpscaleInput, type UpscaleOptions, type UpscaleProgress, type UpscaleResult, type SharpLike } from './api/upscale.js';
export { loadModel, modelFromUpscaler, type Model, type ModelSpec, type LoadOptions } from './api/model.js';
export type { RawPixels } from './api/execute.js';
export { AbortError, OptionError, MemoryError, CallbackError } from './api/errors.js';
export { ImageError } from './io/image/errors.js';
export { ModelFormatError } from './models/format.js';
export { CheckpointError } from './io/checkpoint/errors.js';
export { COLOR_FIXES, type ColorFix } from './models/colorfix.js';
export { EXT_CHOICES, type ExtChoice } from './api/naming.js';
export { expandInputs, type InputList } from './api/inputs.js';
export { runBatch, type BatchSummary, type BatchHooks, type ItemResult, type JobOptions } from './api/runner.js';
export { DEFAULT_MODEL, DEFAULTS, modelSpecSchema } from './api/schema.js';
export { modelsDir, listModels, type InstalledModel } from './api/models-dir.js';
export { parseOptions, didYouMean, type ParseContext } from './api/options.js';
export type { Upscaler, UpscalerKind, UpscaleOptions as UpscalerOptions, PipelineDType } from './models/pipeline.js';
export type { TileMerge } from './models/tiling.js';
export type { SamplerKind } from './models/presets.js';
export { setNumThreads, getNumThreads, scope, keep, Tensor } from './engine/index.js';
export { writeReport, ReportError, type ReportInput, type ReportMethod, type ReportImage, type WriteReportOptions } from './metrics/report/html.js';
export * as clip from './models/clip/index.js';
export { evaluate, EvaluateOptionsSchema, type EvaluateOptions, type EvalResult, type EvalProgress } from './api/evaluate.js';
export { formatTable, formatJson, formatCsv } from './metrics/format.js';
export { listMetrics, findMetric, type MetricDef } from './metrics/index.js';
export { train, distill, trainEncoder, ConfigError, type TrainOptions, type TrainResult, type TrainProgress, type TrainLogRecord, type TeacherConfig, type DistillConfig, type EncoderConfig } from './api/train.js';
