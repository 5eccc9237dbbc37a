// vpdsr inspect through the real CLI on every file in ../shared/weights and the golden
// checkpoints: checkpoints list their tensors; anything else, refused or corrupt files included,
// gets one line on stderr and exit code 1, never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { formatInspect, inspectCheckpoint, type InspectReport } from '../../src/cli/inspect.js';
import { cliPath, goldenDir, repoRoot, sharedDir } from '../helpers.js';

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : [p];
  }).sort();
}

interface Run { code: number; stdout: string; stderr: string }

/** bin/vpdsr.js as a user runs it. */
function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The CLI's main() for many argument lists in one child process: starting the engine costs about
 * a second per process, too much to pay for each of ~60 files. The child owns its stdout and
 * stderr, so it can capture what each call prints.
 */
function cliMany(argLists: string[][]): Promise<Run[]> {
  const mainUrl = pathToFileURL(path.join(repoRoot, 'dist/src/cli/main.js')).href;
  const driver = `
    import { main } from ${JSON.stringify(mainUrl)};
    const out = process.stdout.write.bind(process.stdout), err = process.stderr.write.bind(process.stderr);
    const results = [];
    for (const args of JSON.parse(process.env.VPDSR_TEST_ARGS)) {
      let stdout = '', stderr = '';
      process.stdout.write = (c) => { stdout += c; return true; };
      process.stderr.write = (c) => { stderr += c; return true; };
      process.exitCode = undefined;
      let code;
      try { code = await main(['node', 'vpdsr', ...args]); } finally { process.stdout.write = out; process.stderr.write = err; }
      results.push({ code, stdout, stderr });
    }
    out(JSON.stringify(results));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', driver], { maxBuffer: 256 << 20, env: { ...process.env, VPDSR_TEST_ARGS: JSON.stringify(argLists) } },
      (err, stdout, stderr) => (err ? reject(new Error(`driver failed: ${stderr}`)) : resolve(JSON.parse(stdout) as Run[])));
  });
}

const files = [...filesUnder(path.join(sharedDir, 'weights')), ...filesUnder(goldenDir('checkpoints'))];
const isCheckpoint = (f: string): boolean => !f.includes(`${path.sep}refuse${path.sep}`) && /\.(pt|pth|safetensors)$/.test(f);

test('vpdsr inspect --json on every file in shared/weights and golden/checkpoints', async () => {
  assert.ok(files.length > 40, `found ${files.length} files`);
  const runs = await cliMany(files.map((f) => ['inspect', f, '--json']));
  files.forEach((file, i) => {
    const r = runs[i]!;
    if (isCheckpoint(file)) {
      assert.equal(r.code, 0, `${file}: ${r.stderr}`);
      const report = JSON.parse(r.stdout) as InspectReport;
      assert.deepEqual(report, JSON.parse(JSON.stringify(inspectCheckpoint(file))), file);
      assert.ok(report.tensors.length > 0, file);
      assert.equal(report.totalParameters > 0, true, file);
    } else {
      assert.equal(r.code, 1, `${file} should be refused`);
      assert.equal(r.stdout, '', file);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `${file}: one line, got ${r.stderr}`);
      assert.ok(lines[0]!.startsWith('vpdsr: ') && lines[0]!.includes(file), lines[0]);
      assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
    }
  });
});

test('bin/vpdsr.js inspect text output lists format, every tensor, the total and metadata', async () => {
  const file = path.join(goldenDir('checkpoints'), 'read/train_module_zip.pth');
  const r = await cli(['inspect', file]);
  assert.equal(r.code, 0, r.stderr);
  const report = inspectCheckpoint(file);
  assert.equal(r.stdout, formatInspect(report));
  assert.match(r.stdout, /^format: zip$/m);
  for (const t of report.tensors) assert.ok(r.stdout.includes(`${t.name} `), t.name);
  assert.match(r.stdout, /^total parameters: [\d,]+$/m);
  assert.match(r.stdout, /^ {2}epoch: \d+$/m);
});

test('bin/vpdsr.js inspect on a hostile file: exit 1, one line naming the global', async () => {
  const file = path.join(goldenDir('checkpoints'), 'refuse/hostile_subprocess_Popen_legacy.pt');
  const r = await cli(['inspect', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^vpdsr: .*refused global subprocess\.Popen.*\n$/);
});

test('inspect counts a tensor reached under two keys once', () => {
  const r = inspectCheckpoint(path.join(goldenDir('checkpoints'), 'read/containers_zip.pt'));
  const byName = new Map(r.tensors.map((t) => [t.name, t.numel]));
  assert.equal(byName.get('same_twice.0'), 4);
  assert.equal(r.totalParameters, 3 + 4 + 1 + 1); // od.alpha, the shared [2,2], f64 [1], i32 [1]
  assert.equal(r.metadata['floats.9'], 'nan');
  assert.equal(r.metadata['ints.16'], '1000000000000000000000000000000');
  const ts = inspectCheckpoint(path.join(goldenDir('checkpoints'), 'read/scripted_ts.pt'));
  assert.equal(ts.metadata['(module)'], '__torch__.tiny_modules.TsTiny');
  assert.equal(ts.metadata.name, '"tiny"');
  assert.equal(ts.metadata.pad, '[1, 1, 2, 2]');
});
