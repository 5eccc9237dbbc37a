// Networks of the image-quality metrics (LPIPS, DISTS, FID's Inception) with upstream state-dict names.
export { AlexNetSlices, Vgg16Slices, vgg16L2Stages } from './backbones.js';
export { MaxPool2d, L2pooling, mapFeatures } from './layers.js';
export { LPIPS, NetLinLayer, ScalingLayer, normalizeTensor, type LpipsOutput } from './lpips.js';
export { DISTS } from './dists.js';
export { FIDInceptionV3, BasicConv2d } from './inception.js';
