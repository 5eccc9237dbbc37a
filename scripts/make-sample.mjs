// Makes the bundled demo input samples/chelsea-lr.png from the CC0 photo samples/chelsea.png:
// a 384×288 crop around the cat's face (left 40, top 0), reduced ×4 to 96×72 with sharp's
// antialiased Lanczos-3 filter. Run: node scripts/make-sample.mjs
import sharp from 'sharp';
const out = new URL('../samples/chelsea-lr.png', import.meta.url).pathname;
await sharp(new URL('../samples/chelsea.png', import.meta.url).pathname)
  .extract({ left: 40, top: 0, width: 384, height: 288 })
  .resize(96, 72, { kernel: 'lanczos3' })
  .png()
  .toFile(out);
console.log(`wrote ${out}`);
