#!/usr/bin/env node
// `npm install vpdsr` runs this: the JavaScript is prebuilt in the package, so only the native
// addon is compiled here (node-gyp, against LibTorch). Without LibTorch it stops with one line
// saying what to install, instead of a page of compiler errors.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');

function fail(msg) {
  process.stderr.write(`vpdsr: ${msg}\n`);
  process.exit(1);
}

// Where the LibTorch headers should be (native/torch-config.cjs builds against the same).
const lib = process.env.LIBTORCH;
if (lib) {
  if (!fs.existsSync(path.join(lib, 'include', 'ATen', 'ATen.h'))) {
    fail(`LIBTORCH=${lib} holds no include/ATen/ATen.h: point it at a LibTorch folder (pytorch.org) or a pip install's torch/ folder`);
  }
} else if (!fs.existsSync('/usr/include/ATen/ATen.h')) {
  const how = process.platform === 'linux'
    ? 'on Debian/Ubuntu: sudo apt-get install libtorch-dev libopenblas0-pthread g++ make; elsewhere'
    : `on ${process.platform}:`;
  fail(`LibTorch not found (needed to build the native addon): ${how} download LibTorch from pytorch.org and set LIBTORCH=/path/to/libtorch, then npm install again`);
}

// npm hands its bundled node-gyp to install scripts as npm_config_node_gyp.
const gyp = process.env.npm_config_node_gyp;
const cmd = gyp ? process.execPath : process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp';
const args = gyp ? [gyp, 'rebuild'] : ['rebuild'];
const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
if (r.error) fail(`cannot run node-gyp (${r.error.message}); install it with npm install -g node-gyp`);
if (r.status !== 0) fail(`building the native addon failed (node-gyp exit ${r.status}; its output is above). LibTorch ${lib ? `at LIBTORCH=${lib}` : 'from /usr/include'}; a C++17 compiler is needed`);
