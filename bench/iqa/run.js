#!/usr/bin/env node
// npm run bench:iqa — the compiled bench lives in dist/ (npx tsc -p tsconfig.json first): images/s
// and peak RSS of MUSIQ and MANIQA at 512² (bench/iqa/iqa.ts), beside PyTorch (bench/iqa/torch_bench.py).
import { benchIqa } from '../../dist/bench/iqa/iqa.js';

for (const line of benchIqa()) process.stdout.write(line + "\n");
