// The golden sets of the current phase must pass in full: a kind with no implementation fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runGolden, formatReport } from '../src/parity/runner.js';
import { goldenDir } from './helpers.js';

for (const set of ['checkpoints', 'data', 'models', 'iqa', 'clip', 'lpips']) {
  test(`golden set ${set} passes`, async () => {
    const reports = await runGolden(goldenDir(set));
    const failed = reports.filter((r) => !r.pass);
    assert.ok(reports.length > 0, 'no cases');
    assert.equal(failed.length, 0, failed.map(formatReport).join('\n'));
  });
}
