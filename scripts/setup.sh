#!/usr/bin/env bash
# One-command install on Debian 12: LibTorch + OpenBLAS from Debian, npm packages, the native
# addon and the TypeScript build; then the main job on a bundled sample.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# LibTorch 1.13 (CPU, oneDNN, OpenMP) and OpenBLAS: without OpenBLAS, Debian's reference BLAS
# makes fp32 matmul 50x slower. Skipped when LIBTORCH points at another LibTorch.
# chromium (and a font for it) drives the browser test of the evaluation report (puppeteer-core
# uses this binary; nothing is downloaded).
pkgs="libopenblas0-pthread g++ make python3 chromium fonts-dejavu-core"
if [ -z "${LIBTORCH:-}" ]; then pkgs="libtorch-dev $pkgs"; fi
# libgloo-dev: the headers of LibTorch's Gloo process group (data-parallel training on CPUs).
pkgs="$pkgs libgloo-dev"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing Debian packages:$missing"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# npm dependencies; the package's install script builds the addon (node-gyp), its prepare script
# the TypeScript (an installed package ships it built).
npm ci --no-audit --no-fund

# The main job on a bundled sample: ×4 of samples/chelsea-lr.png into out/ with the default model
# (models/vpdsr-x4 when the package carries its weights, else the bicubic baseline; add --model DIR
# for a converted model).
node bin/vpdsr.js upscale -i samples/chelsea-lr.png -o out
