// psnr (Y of YCbCr, as the papers report it), psnr_rgb (pyiqa's bare `psnr`), psnr_basicsr (crop 4, BasicSR).
import { registerMetric } from '../registry.js';
import { psnr, psnrBasicsr } from '../psnr.js';

registerMetric({
  id: 'psnr', aliases: ['psnr_y'], kind: 'image', lowerBetter: false, needsReference: true, weights: [],
  description: "pyiqa psnr, test_y_channel=True, color_space='ycbcr', no crop (dB)",
  create: () => ({ score: (sr, hr) => psnr(sr, hr!, { testYChannel: true, colorSpace: 'ycbcr' }), dispose() {} }),
});

registerMetric({
  id: 'psnr_rgb', kind: 'image', lowerBetter: false, needsReference: true, weights: [],
  description: 'pyiqa psnr with its defaults: all three RGB channels (dB)',
  create: () => ({ score: (sr, hr) => psnr(sr, hr!, { testYChannel: false }), dispose() {} }),
});

registerMetric({
  id: 'psnr_basicsr', kind: 'image', lowerBetter: false, needsReference: true, weights: [],
  description: 'BasicSR calculate_psnr(crop_border=4, test_y_channel=True), float64 (dB)',
  create: () => ({ score: (sr, hr) => psnrBasicsr(sr, hr!, 4), dispose() {} }),
});
