// --max-memory (maxMemory) is a promise about real memory: a tiled upscale whose tile was chosen
// from a budget grows the process's peak RSS by no more than that budget over the loaded model.
// Each run is a child process (memory-budget-child.ts), so its peak RSS is its own. The same image
// untiled is the control: it must go over the same budget, or the check would prove nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyModel } from '../models/tiny-model.js';
import { tmpDir } from '../io/fixtures.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'memory-budget-child.js');
const SIZE = 96; // LR px: untiled, the tiny model's VQ attention alone needs ~0.7 GB; tiles of 64 px need a fraction
const BUDGET = 400 * 2 ** 20;
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;

interface Run { loadedBytes: number; peakBytes: number; tiles: number; growth: number }

function run(model: string, maxMemory: string, tile?: number): Run {
  const r = spawnSync(process.execPath, [CHILD, model, String(SIZE), maxMemory, ...(tile === undefined ? [] : [String(tile)])], { encoding: 'utf8', timeout: 120_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `the child printed no result (status ${r.status}, signal ${r.signal}): ${r.stderr.slice(-400)}`);
  const j = JSON.parse(line) as Omit<Run, 'growth'>;
  return { ...j, growth: j.peakBytes - j.loadedBytes };
}

test('a tiled upscale stays within its --max-memory budget; the same image untiled does not', () => {
  const model = tinyModel(tmpDir('vpdsr-budget-'));
  const tiled = run(model, String(BUDGET));
  assert.ok(tiled.tiles > 1, `the budget of ${mib(BUDGET)} should force tiling of a ${SIZE}² image, got ${tiled.tiles} tile(s)`);
  assert.ok(tiled.growth <= BUDGET, `tiled: peak RSS grew ${mib(tiled.growth)} over the loaded model, budget ${mib(BUDGET)}`);
  // Control: untiled (a budget large enough to accept it), the peak goes over the small budget.
  const whole = run(model, '8G', 0);
  assert.equal(whole.tiles, 1);
  assert.ok(whole.growth > BUDGET, `untiled: peak RSS grew only ${mib(whole.growth)}, not more than ${mib(BUDGET)}: the check above would prove nothing`);
});
