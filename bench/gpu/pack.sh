#!/usr/bin/env bash
# Prepares, on this (CPU) machine, what bench/gpu/run.sh needs on a GPU machine that may have no
# Node and no network: a compressed Node binary, the Node-API headers and node-addon-api.
# Everything lands in build/gpu/ (ignored by git); carry "build/gpu" and "dist" to the GPU run.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/gpu
mkdir -p "$out/include"
node_bin=$(command -v node)
echo "compressing $node_bin ($(du -h "$node_bin" | cut -f1))"
xz -T2 -6 -c "$node_bin" > "$out/node.xz.tmp" && mv "$out/node.xz.tmp" "$out/node.xz"
node_inc=$(dirname "$(dirname "$node_bin")")/include/node
[ -f "$node_inc/node_api.h" ] || node_inc=/usr/include/node
for h in node_api.h node_api_types.h js_native_api.h js_native_api_types.h; do cp "$node_inc/$h" "$out/include/"; done
cp node_modules/node-addon-api/napi.h node_modules/node-addon-api/napi-inl.h node_modules/node-addon-api/napi-inl.deprecated.h "$out/include/" 2>/dev/null || \
  cp node_modules/node-addon-api/napi*.h "$out/include/"
npx tsc -p tsconfig.json >/dev/null || true   # dist/ must be current (tsc emits despite type errors elsewhere)
du -sh "$out" dist
echo "carry: [\"build/gpu\", \"dist\"]   then run: bash bench/gpu/run.sh"
