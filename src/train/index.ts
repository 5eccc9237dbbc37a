// Training: the teacher, the VPD-SR student and the stand-in encoder (VPDSR_METHOD §3, §8.3).
export { trainTeacher, buildUNet, unetEma } from './teacher.js';
export { distill } from './distill.js';
export { trainEncoder, loadEncoder, saveEncoder, ENCODER_FILE } from './encoder-train.js';
export { loadConfig, checkConfig, ConfigError, type TeacherConfig, type DistillConfig, type EncoderConfig, type TrainConfig, type TrainKind } from './config.js';
export { TrainAbortedError, type TrainOptions, type TrainProgress, type TrainResult, type TrainLogRecord } from './run.js';
export { haarDwt, haarIdwt, haarDetails, hfpLoss, hfEnergy } from './haar.js';
export { essLoss, hingeD, hingeG, type ImageEncoder } from './losses.js';
export { StandInEncoder } from './encoder.js';
export { ClipImageEncoder, loadClipEncoder } from './clip-encoder.js';
export { ImageMetrics } from './val-metrics.js';
export { sampleSR } from './sample.js';
