// Where the benches find upstream ResShift (zsyOAOA/ResShift@3ce1d81) for their PyTorch rows: a
// checkout given with --resshift DIR or $VPDSR_RESSHIFT. Upstream code is read from there at run
// time, never copied into this repository. Without a checkout the PyTorch rows are reported as
// skipped (NO_CHECKOUT), so a bench still runs on a fresh clone.
import * as fs from 'node:fs';
import path from 'node:path';

/** The files of upstream's tree that the PyTorch sides import. */
const NEEDED = ['models/unet.py', 'models/gaussian_diffusion.py', 'ldm/models/autoencoder.py'];

/**
 * The checkout (absolute path) from the flag or $VPDSR_RESSHIFT; undefined when neither is set.
 * A directory that is not a ResShift tree ends the bench with one line saying so.
 */
export function resshiftCheckout(flag: string | undefined): string | undefined {
  const dir = flag ?? process.env.VPDSR_RESSHIFT;
  if (dir === undefined || dir === '') return undefined;
  const abs = path.resolve(dir);
  const missing = NEEDED.filter((f) => !fs.existsSync(path.join(abs, f)));
  if (missing.length > 0) {
    process.stderr.write(`--resshift ${dir}: not a ResShift checkout (missing ${missing.join(', ')})\n`);
    process.exit(2);
  }
  return abs;
}

/** Why the PyTorch rows are missing, as the benches print it. */
export const NO_CHECKOUT = 'no ResShift checkout (--resshift DIR or VPDSR_RESSHIFT)';

/** The Python that has torch here (Debian's python3-torch); $VPDSR_PYTHON overrides it. */
export const TORCH_PYTHON = process.env.VPDSR_PYTHON ?? '/usr/bin/python3';
