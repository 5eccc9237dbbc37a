// Build flags for the LibTorch the addon links against: Debian's libtorch-dev by default, or the
// folder named by LIBTORCH (a pytorch.org LibTorch, or a pip install's torch/ folder).
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

function locate() {
  const root = process.env.LIBTORCH;
  if (!root) return { include: ['/usr/include', '/usr/include/torch/csrc/api/include'], lib: null };
  const inc = path.join(root, 'include');
  if (!fs.existsSync(path.join(inc, 'ATen', 'ATen.h'))) {
    throw new Error(`LIBTORCH=${root}: no include/ATen/ATen.h there (expected a LibTorch or a pip torch/ folder)`);
  }
  return { include: [inc, path.join(inc, 'torch', 'csrc', 'api', 'include')], lib: path.join(root, 'lib') };
}

// The C++11 ABI flag must match the LibTorch build: read it from libc10's symbols.
function cxx11abi(libdir) {
  if (process.env.VPDSR_CXX11_ABI) return process.env.VPDSR_CXX11_ABI;
  if (!libdir) return '1'; // Debian builds with the new ABI
  const so = path.join(libdir, 'libc10.so');
  try {
    const syms = execFileSync('nm', ['-D', '--defined-only', so], { encoding: 'utf8', maxBuffer: 1 << 28 });
    return /__cxx11/.test(syms) ? '1' : '0';
  } catch {
    return '1';
  }
}

function cuda(libdir) {
  if (!libdir) return false;
  return fs.existsSync(path.join(libdir, 'libtorch_cuda.so'));
}

const loc = locate();
const what = process.argv[2];
if (what === 'include') {
  process.stdout.write(loc.include.join(' '));
} else if (what === 'defines') {
  process.stdout.write(`_GLIBCXX_USE_CXX11_ABI=${cxx11abi(loc.lib)}`);
} else if (what === 'libs') {
  const libs = [];
  if (loc.lib) libs.push(`-L${loc.lib}`, `-Wl,-rpath,${loc.lib}`);
  libs.push('-ltorch', '-ltorch_cpu', '-lc10');
  if (cuda(loc.lib)) libs.push('-Wl,--no-as-needed', '-ltorch_cuda', '-lc10_cuda', '-Wl,--as-needed');
  libs.push('-lgomp');
  process.stdout.write(libs.join(' '));
} else {
  process.stderr.write('usage: torch-config.cjs include|defines|libs\n');
  process.exit(2);
}
