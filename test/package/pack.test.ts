// The package as a user gets it: `npm pack`, then `npm install <tarball>` in a scratch app (which
// compiles only the native addon), the README's library example run there, `npx vpdsr`, and the
// one-line message of the install script without LibTorch. Uses the npm cache where it can
// (--prefer-offline); the registry only for what the cache lacks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers.js';

let root = '';
let tarball = '';
const app = (): string => path.join(root, 'app');

/** The environment without the npm_* variables of the `npm test` running this (they would steer the inner npm). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('npm_') || k === 'npm_config_cache' || k === 'npm_config_registry' || k === 'npm_config_userconfig') env[k] = v;
  }
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], cwd: string, extra: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: cleanEnv(extra), timeout: 540_000 });
}

before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'vpdsr-pack-'));
  // dist/ is built by `npm test` (tsc) already: --ignore-scripts skips the prepare script's rebuild.
  const r = run('npm', ['pack', '--ignore-scripts', '--pack-destination', root], repoRoot);
  assert.equal(r.status, 0, r.stderr);
  tarball = path.join(root, readdirSync(root).find((f) => f.endsWith('.tgz'))!);
});
after(() => rmSync(root, { recursive: true, force: true }));

test('the tarball ships the built library, the CLI, the native sources and LICENSE, nothing else', () => {
  const r = run('tar', ['-tzf', tarball], root);
  assert.equal(r.status, 0, r.stderr);
  const files = r.stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
  for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin/vpdsr.js', 'dist/src/api.js', 'dist/src/api.d.ts', 'dist/src/api/worker.js',
    'dist/src/cli/main.js', 'binding.gyp', 'native/src/addon.cc', 'native/torch-config.cjs', 'scripts/install.cjs', 'docs/images/chelsea-after.png']) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  const stray = files.filter((f) => /^dist\/(test|bench)\//.test(f) || f.endsWith('.map') || /^(src|test|bench)\//.test(f) || f.startsWith('scripts/ref') || f === 'tsconfig.json' || f.startsWith('build/'));
  assert.deepEqual(stray, []);
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
  for (const k of ['repository', 'os', 'cpu', 'license', 'engines', 'bin', 'exports']) assert.ok(pkg[k] !== undefined, k);
  assert.equal((pkg.scripts as Record<string, string>).install, 'node scripts/install.cjs', 'the install script builds only the addon');
});

test('npm install <tarball> in a scratch app builds the addon; the README example and npx vpdsr run there', () => {
  mkdirSync(app());
  writeFileSync(path.join(app(), 'package.json'), JSON.stringify({ name: 'scratch-app', version: '1.0.0', private: true, type: 'module' }));
  const inst = run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error'], app());
  assert.equal(inst.status, 0, `npm install: ${inst.stderr.slice(-3000)}`);
  assert.ok(existsSync(path.join(app(), 'node_modules', 'vpdsr', 'build', 'Release', 'vpdsr.node')), 'the addon was built');
  assert.ok(!existsSync(path.join(app(), 'node_modules', 'typescript')), 'no TypeScript needed to install');

  // The README's library example, verbatim, on a photo.png of the app.
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Using vpdsr as a dependency'));
  const example = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(example?.includes("from 'vpdsr'"), 'the README has a library example');
  writeFileSync(path.join(app(), 'example.mjs'), `${example}\nconsole.log(JSON.stringify({ bytes: png.length }));\n`);
  copyFileSync(path.join(repoRoot, 'samples', 'chelsea-lr.png'), path.join(app(), 'photo.png'));
  const ex = run(process.execPath, ['example.mjs'], app());
  assert.equal(ex.status, 0, ex.stderr);
  assert.ok((JSON.parse(ex.stdout.trim()) as { bytes: number }).bytes > 1000);
  assert.ok(existsSync(path.join(app(), 'photo-x4.webp')));

  const v = run('npx', ['--no-install', 'vpdsr', '--version'], app());
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version);
  const bad = run('npx', ['--no-install', 'vpdsr', 'upscale', '--tiel', '3'], app());
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
});

test('without LibTorch the install script stops with one line saying what to install', () => {
  const script = path.join(repoRoot, 'scripts', 'install.cjs');
  const r = run(process.execPath, [script], root, { LIBTORCH: path.join(root, 'no-libtorch') });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^vpdsr: LIBTORCH=.*no-libtorch holds no include\/ATen\/ATen\.h: point it at a LibTorch folder/);
});
