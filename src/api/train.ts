// Library entry points for training: train (teacher), distill (student), trainEncoder, each from a
// config object or file, with progress callbacks and an AbortSignal.
import { checkConfig, loadConfig, distill as distillRun, trainTeacher, trainEncoder as trainEncoderRun, type TrainKind, type TrainOptions, type TrainResult } from '../train/index.js';

export type { TrainOptions, TrainResult, TrainProgress, TrainLogRecord, TeacherConfig, DistillConfig, EncoderConfig } from '../train/index.js';
export { ConfigError } from '../train/index.js';

function config<K extends TrainKind>(kind: K, c: string | object) {
  return typeof c === 'string' ? loadConfig(kind, c) : checkConfig(kind, c, 'config');
}

/** Trains a ResShift teacher; `c` is a config object or a YAML/JSON file. */
export async function train(c: string | object, opts: TrainOptions = {}): Promise<TrainResult> {
  return trainTeacher(config('teacher', c), opts);
}

/** Distils the one-step VPD-SR student from a teacher model folder. */
export async function distill(c: string | object, opts: TrainOptions = {}): Promise<TrainResult> {
  return distillRun(config('distill', c), opts);
}

/** Trains the stand-in image encoder used by ESS. */
export async function trainEncoder(c: string | object, opts: TrainOptions = {}): Promise<TrainResult> {
  return trainEncoderRun(config('encoder', c), opts);
}
