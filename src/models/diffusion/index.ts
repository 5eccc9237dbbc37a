// Diffusion (MODEL_SPEC.md §1, §4, §5): η schedules, GaussianDiffusion, respacing, samplers and
// the SinSR distillation loss.
export { expCR, logCR, powCR } from './f64math.js';
export { getNamedEtaSchedule, etasStartValue, npLinspace, ScheduleError, type ScheduleName, type ScheduleOptions, type EtasStart } from './schedule.js';
export { GaussianDiffusion, DiffusionError, type Denoiser, type Timesteps, type DiffusionOptions, type MeanVariance, type DdimCoefficients } from './gaussian.js';
export { spaceTimesteps, spacedDiffusion, createGaussianDiffusion, type CreateDiffusionOptions } from './respace.js';
export {
  pSampleLoop, ddimSampleLoop, ddimInverseLoop, oneStepSample, latentSampler, sampleImage, encodeFirstStage, decodeFirstStage,
  reflectPadBottomRight, seededNoise, generatorNoise, tensorNoise, SAMPLERS,
  type NoiseSource, type StepRecord, type LoopOptions, type SamplerKind, type FirstStage, type SampleImageOptions,
} from './samplers.js';
export { trainingLossesDistill, type DistillInputs, type DistillTerms } from './distill.js';
