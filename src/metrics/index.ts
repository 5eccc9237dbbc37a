// vpdsr's image-quality metrics: importing this module registers every metric (one line each).
import './defs/psnr.js';
import './defs/ssim.js';
import './defs/niqe.js';
import './defs/lpips.js';
import './defs/dists.js';
import './defs/fid.js';

export { findMetric, listMetrics, registerMetric, type MetricDef, type MetricInstance, type MetricContext, type WeightFile } from './registry.js';
export { weightsDir, resolveWeights, assetPath } from './weights.js';
