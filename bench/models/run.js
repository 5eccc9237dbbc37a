#!/usr/bin/env node
// npm run bench:models — the compiled bench lives in dist/ (npx tsc -p tsconfig.json first).
import '../../dist/bench/models/models.js';
