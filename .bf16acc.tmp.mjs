import sharp from 'sharp';
import * as torch from '/work/main/dist/src/engine/index.js';
import { VQModelTorch } from '/work/main/dist/src/models/vq/index.js';
const S = 128;
const { data } = await sharp('/work/shared/samples/astronaut.png').resize(S, S).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const img = torch.fromBytes(new Uint8Array(data), 'uint8', [S, S, 3]).permute(2, 0, 1).unsqueeze(0).float().div(127.5).sub(1);
torch.manualSeed(0);
const vq = new VQModelTorch().eval();
// spread the codebook like a trained one (the default init is ±1/8192)
torch.noGrad(() => vq.quantize.embedding.weight.uniform_(-1.5, 1.5));
const psnr = (a, b) => torch.scope(() => { const m = a.float().clamp(-1,1).sub(b.float().clamp(-1,1)).square().mean().item(); return 10 * Math.log10(4 / m); });
torch.noGrad(() => torch.scope(() => {
  vq.to({ memoryFormat: 'channels_last' });
  const z32 = vq.encode(img); let idx32; const d32 = vq.decode(z32, { onQuantize: (q) => { idx32 = torch.keep(q.indices.clone()); } });
  vq.to({ dtype: 'bfloat16' });
  const z16 = vq.encode(img); let idx16; const d16 = vq.decode(z32, { onQuantize: (q) => { idx16 = torch.keep(q.indices.clone()); } });
  const d16b = vq.decode(z16);
  const zr = z16.float().sub(z32).abs().max().item() / z32.abs().max().item();
  const agree = idx16.eq(idx32).float().mean().item();
  console.log(`latent rel max err ${zr.toExponential(2)}; decode(same f32 latent): PSNR bf16 vs f32 ${psnr(d16, d32).toFixed(1)} dB, code agreement ${(100*agree).toFixed(2)}%; full round trip PSNR ${psnr(d16b, d32).toFixed(1)} dB; f32 output range ${d32.min().item().toFixed(2)}..${d32.max().item().toFixed(2)}`);
}));
