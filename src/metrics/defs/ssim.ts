// ssim (Y of YCbCr, rounded, no crop), ssim_rgb (the three RGB channels), ssim_basicsr (crop 4, BasicSR).
import { registerMetric } from '../registry.js';
import { ssim, ssimBasicsr } from '../ssim.js';

registerMetric({
  id: 'ssim', aliases: ['ssim_y'], kind: 'image', lowerBetter: false, needsReference: true, weights: [], minSize: 11,
  description: "pyiqa ssim, test_y_channel=True, color_space='ycbcr', no crop",
  create: () => ({ score: (sr, hr) => ssim(sr, hr!, { testYChannel: true, colorSpace: 'ycbcr' }), dispose() {} }),
});

registerMetric({
  id: 'ssim_rgb', kind: 'image', lowerBetter: false, needsReference: true, weights: [], minSize: 11,
  description: 'pyiqa ssim with test_y_channel=False: the mean SSIM of the R, G and B channels (rounded to 8-bit levels)',
  create: () => ({ score: (sr, hr) => ssim(sr, hr!, { testYChannel: false }), dispose() {} }),
});

registerMetric({
  id: 'ssim_basicsr', kind: 'image', lowerBetter: false, needsReference: true, weights: [], minSize: 19,
  description: 'BasicSR calculate_ssim(crop_border=4, test_y_channel=True): unrounded Y, no clamping',
  create: () => ({ score: (sr, hr) => ssimBasicsr(sr, hr!, 4), dispose() {} }),
});
