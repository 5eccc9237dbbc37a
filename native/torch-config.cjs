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

// c10d (TCPStore, process groups) ships with every LibTorch that has torch.distributed; the Gloo
// process group needs gloo's headers too: inside a LibTorch that bundles them, else Debian's
// libgloo-dev in /usr/include (a default search path, so no -I is added for it) or GLOO_INCLUDE.
function distributedDefines(loc) {
  const inc = loc.include[0];
  const defs = [];
  if (!fs.existsSync(path.join(inc, 'torch', 'csrc', 'distributed', 'c10d', 'TCPStore.hpp'))) return defs;
  defs.push('VPDSR_C10D');
  const glooDirs = [inc, process.env.GLOO_INCLUDE, '/usr/include'].filter(Boolean);
  if (glooDirs.some((d) => fs.existsSync(path.join(d, 'gloo', 'algorithm.h')))) defs.push('USE_C10D_GLOO');
  if (cuda(loc.lib)) {
    const cudaInc = [inc, process.env.CUDA_HOME && path.join(process.env.CUDA_HOME, 'include'), '/usr/local/cuda/include', '/usr/include'];
    if (cudaInc.filter(Boolean).some((d) => fs.existsSync(path.join(d, 'nccl.h')))) defs.push('USE_C10D_NCCL');
  }
  return defs;
}

// Include dirs beyond LibTorch's: GLOO_INCLUDE if given; the CUDA toolkit's (nccl.h, cuda_runtime.h)
// only for a CUDA LibTorch.
function extraIncludes(loc) {
  const dirs = [];
  if (process.env.GLOO_INCLUDE) dirs.push(process.env.GLOO_INCLUDE);
  if (cuda(loc.lib)) {
    const c = process.env.CUDA_HOME ? path.join(process.env.CUDA_HOME, 'include') : '/usr/local/cuda/include';
    if (fs.existsSync(c)) dirs.push(c);
  }
  return dirs;
}

const loc = locate();
const what = process.argv[2];
if (what === 'include') {
  process.stdout.write([...loc.include, ...extraIncludes(loc)].join(' '));
} else if (what === 'defines') {
  process.stdout.write([`_GLIBCXX_USE_CXX11_ABI=${cxx11abi(loc.lib)}`, ...distributedDefines(loc)].join(' '));
} else if (what === 'libs') {
  const libs = [];
  if (loc.lib) libs.push(`-L${loc.lib}`, `-Wl,-rpath,${loc.lib}`);
  libs.push('-ltorch', '-ltorch_cpu', '-lc10');
  if (cuda(loc.lib)) libs.push('-Wl,--no-as-needed', '-ltorch_cuda', '-lc10_cuda', '-Wl,--as-needed');
  libs.push('-lgomp');
  process.stdout.write(libs.join(' '));
} else if (what === 'backends') {
  process.stdout.write(distributedDefines(loc).join(' '));
} else {
  process.stderr.write('usage: torch-config.cjs include|defines|libs|backends\n');
  process.exit(2);
}
