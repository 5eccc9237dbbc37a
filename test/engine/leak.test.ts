// Leak test (issue 2, item 5): 10 000 forward+backward steps of a small conv net with an in-place
// SGD update keep RSS flat. Runs in a child process (this file with VPDSR_LEAK_DRIVER=1) so that
// the RSS measured is the loop's own, not the test runner's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/engine/index.js';

const STEPS = Number(process.env.VPDSR_LEAK_STEPS ?? 10_000);
const WARM = 1_000;
/** Allowed RSS growth between step 1000 and step 10000. */
const BOUND_MB = 30;

interface LeakReport { steps: number; rssWarmMB: number; rssEndMB: number; liveWarm: number; liveEnd: number; externalWarmMB: number; externalEndMB: number; loss0: number; lossEnd: number; seconds: number }

function runDriver(): void {
  const g = new torch.Generator(0);
  // Two 3×3 conv layers, 8 channels, on 1×3×16×16 (as nn.Conv2d's parameters, kept outside scopes).
  const params = torch.scope(() => [
    torch.randn([8, 3, 3, 3], { generator: g }).mul(0.2), torch.zeros([8]),
    torch.randn([8, 8, 3, 3], { generator: g }).mul(0.1), torch.zeros([8]),
  ].map((p) => p.requiresGrad_()));
  const [w1, b1, w2, b2] = params.map((p) => torch.keep(p)) as [torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor];
  const x = torch.keep(torch.randn([1, 3, 16, 16], { generator: g }));
  const target = torch.keep(torch.randn([1, 8, 16, 16], { generator: g }).mul(0.1));
  const lr = 0.05;
  const report: Partial<LeakReport> = { steps: STEPS };
  const t0 = process.hrtime.bigint();
  for (let step = 1; step <= STEPS; step++) {
    const loss = torch.scope(() => {
      const h = torch.silu(torch.conv2d(x, w1, b1, { padding: 1 }));
      const y = torch.conv2d(h, w2, b2, { padding: 1 });
      const l = torch.mseLoss(y, target);
      l.backward();
      torch.noGrad(() => {
        for (const p of params) {
          p.sub_(p.grad!, lr); // in-place SGD step
          p.grad = null;
        }
      });
      return l.item();
    });
    if (step === 1) report.loss0 = loss;
    if (step === WARM) {
      report.rssWarmMB = process.memoryUsage().rss / 1048576;
      report.externalWarmMB = torch.externalMemory().v8 / 1048576;
      report.liveWarm = torch.memory().liveTensors;
    }
    if (step === STEPS) report.lossEnd = loss;
  }
  report.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  report.rssEndMB = process.memoryUsage().rss / 1048576;
  report.externalEndMB = torch.externalMemory().v8 / 1048576;
  report.liveEnd = torch.memory().liveTensors;
  process.stdout.write(JSON.stringify(report) + '\n');
}

if (process.env.VPDSR_LEAK_DRIVER === '1') {
  runDriver();
} else {
  test(`${STEPS} forward+backward steps keep RSS growth under ${BOUND_MB} MB (step ${WARM} → ${STEPS})`, { timeout: 300_000 }, () => {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, VPDSR_LEAK_DRIVER: '1', VPDSR_THREADS: '1' }, encoding: 'utf8', timeout: 280_000,
    });
    assert.equal(r.status, 0, `leak driver failed (${r.signal ?? r.status}): ${r.stderr}`);
    const rep = JSON.parse(r.stdout.trim().split('\n').pop()!) as LeakReport;
    const growth = rep.rssEndMB - rep.rssWarmMB;
    process.stdout.write(`# leak: RSS ${rep.rssWarmMB.toFixed(1)} MB at step ${WARM} → ${rep.rssEndMB.toFixed(1)} MB at ${STEPS} (${growth.toFixed(1)} MB), ` +
      `${rep.liveEnd} live tensors, loss ${rep.loss0.toFixed(4)} → ${rep.lossEnd.toFixed(4)}, ${rep.seconds.toFixed(1)} s\n`);
    assert.ok(growth < BOUND_MB, `RSS grew by ${growth.toFixed(1)} MB`);
    assert.equal(rep.liveEnd, rep.liveWarm, 'live tensor count changed during the loop');
    assert.ok(Math.abs(rep.externalEndMB - rep.externalWarmMB) < 1, `external memory drifted ${rep.externalWarmMB} → ${rep.externalEndMB} MB`);
    assert.ok(rep.lossEnd < rep.loss0, 'SGD did not reduce the loss: the update did not reach the parameters');
  });
}
