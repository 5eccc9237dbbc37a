#!/usr/bin/env bash
# On a GPU machine with a CUDA PyTorch pip install: builds the vpdsr addon against the LibTorch
# inside that install, then runs `vpdsr doctor --json` and the engine bench on cuda (and on cpu
# for comparison). Needs g++; Node comes from build/gpu/node.xz if none is installed (pack.sh).
# Results go to $OUT (the device tool's folder) when set, else build/gpu/results/.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
gpu=$root/build/gpu
res=${OUT:-$gpu/results}
mkdir -p "$res"
log() { echo "[gpu] $*" | tee -a "$res/run.log"; }

# 1. Node
if command -v node >/dev/null 2>&1; then NODE=$(command -v node)
elif [ -f "$gpu/node.xz" ]; then xz -dc "$gpu/node.xz" > "$gpu/node" && chmod +x "$gpu/node" && NODE=$gpu/node
else echo "no node and no build/gpu/node.xz (run bench/gpu/pack.sh first)" >&2; exit 2; fi
log "node $("$NODE" --version)"

# 2. LibTorch inside the pip install, and its C++11 ABI (the addon must match it)
#    (TORCH_DIR and VPDSR_CXX11_ABI override both, e.g. for a dry run against the system LibTorch)
PY=${PYTHON:-python3}
if [ -n "${TORCH_DIR:-}" ]; then
  TORCH=$TORCH_DIR; ABI=${VPDSR_CXX11_ABI:-1}
else
  TORCH=$($PY -c 'import torch,os;print(os.path.dirname(torch.__file__))') || { echo "no torch in $PY (set PYTHON or TORCH_DIR)" >&2; exit 2; }
  ABI=$($PY -c 'import torch;print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
  log "torch $($PY -c 'import torch;print(torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())')"
fi
log "LibTorch at $TORCH, CXX11 ABI $ABI"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | tee -a "$res/run.log"

# 3. Build the addon with g++ directly (no node-gyp: it would want to download Node headers).
#    torch-config.cjs gives the same flags as the normal build; VPDSR_CXX11_ABI overrides its nm probe.
export VPDSR_CXX11_ABI=$ABI
if [ -f "$TORCH/include/ATen/ATen.h" ]; then export LIBTORCH=$TORCH
else log "no headers in $TORCH/include (a Debian python3-torch?): building against the system LibTorch instead"; unset LIBTORCH; fi
inc="-I$gpu/include -I$root/node_modules/node-addon-api $(for d in $("$NODE" native/torch-config.cjs include); do printf -- '-I%s ' "$d"; done)"
defs="-D_GLIBCXX_USE_CXX11_ABI=$ABI -DNAPI_CPP_EXCEPTIONS -DNAPI_VERSION=8 -DBUILDING_NODE_EXTENSION"
libs=$("$NODE" native/torch-config.cjs libs)
log "building build/gpu/vpdsr.node"
t0=$(date +%s)
if ! g++ -O2 -std=c++17 -fPIC -shared -fopenmp $defs $inc native/src/addon.cc native/src/allocator.cc -o "$gpu/vpdsr.node" \
     $libs -Wl,-rpath,"$TORCH/lib" 2> "$res/build.err"; then
  log "addon build failed:"; tail -20 "$res/build.err" | tee -a "$res/run.log"; exit 1
fi
log "built in $(( $(date +%s) - t0 )) s"
export VPDSR_ADDON=$gpu/vpdsr.node   # src/native/binding.ts loads this instead of build/Release

# 4. doctor and the engine bench, cuda then cpu
"$NODE" bin/vpdsr.js doctor --json > "$res/doctor.json" 2> "$res/doctor.err"; log "doctor exit $? ($(head -c 300 "$res/doctor.json"))"
for dev in cuda cpu; do
  threads=$(nproc)
  log "bench on $dev ($threads threads)"
  timeout 300 "$NODE" dist/bench/engine/run.js --device "$dev" --no-baseline --threads "$threads" --seconds 1 > "$res/bench-$dev.jsonl" 2>> "$res/bench.err"
  log "bench $dev exit $?: $(wc -l < "$res/bench-$dev.jsonl") lines"
done
cat "$res"/bench-*.jsonl
