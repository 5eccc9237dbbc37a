// Every module here registers the kinds of one golden set (or part of one).
import './checkpoints.js';
import './models-unet.js';
import './models-diffusion.js';
import './models-vq.js';
import './models-e2e.js';
import './data-resize.js';
import './data-color.js';
import './data-degradation.js';
import './iqa.js';
import './clip.js';
import './lpips.js';
