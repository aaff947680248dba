#!/usr/bin/env bash
# Reproduces docs/performance.md's table on a GPU machine that has no GTK
# or GLib: build here, pack with tools/device-kit.sh, carry .dev/, then run
#   bash tools/gpu-bench.sh [OUTDIR]
# It registers NVIDIA's OpenCL driver if present, lists the devices with
# their copy bandwidth, and runs every benchmark on the auto-chosen device,
# each figure against the copy bandwidth measured in the same process.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-bench-out}}
mkdir -p "$out"
if [ -e /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 ] || ldconfig -p 2>/dev/null | grep -q libnvidia-opencl; then
  mkdir -p /etc/OpenCL/vendors
  [ -f /etc/OpenCL/vendors/nvidia.icd ] || echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
fi
if [ -d .dev/lib ]; then
  export LD_LIBRARY_PATH=$PWD/.dev/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  cli=.dev/bin/wavebench-cli
else
  cli=_build/src/cli/wavebench-cli
fi
backend=${WB_BACKEND:-auto}

run() {
  echo "+ $*" | tee -a "$out/bench.log"
  "$@" 2>&1 | tee -a "$out/bench.log"
}

json() {
  local file=$1; shift
  "$@" --json > "$out/$file" 2>> "$out/bench.log"
}

json devices.json "$cli" devices --bandwidth
run "$cli" devices
run "$cli" bench bhte --grid 256 --steps 200 --backend "$backend"
run "$cli" bench bhte --grid 512 --steps 50 --backend "$backend"
run "$cli" bench bhte --grid 256 --steps 100 --readback 100 --readback-steps 12000 --backend "$backend" --no-bandwidth
run "$cli" bench vwe --dim 2 --grid 4096 --steps 200 --backend "$backend"
run "$cli" bench vwe --dim 3 --grid 256 --steps 50 --backend "$backend"
run "$cli" bench pstm --backend "$backend"
run "$cli" bench pstm --midpoints 85 --outputs 256 --backend "$backend" --verify
# What the solvers' access patterns can reach without their stencils (the
# arrays of vwe's stress and particle kernels, and of bhte), for the gaps.
run "$cli" bench streams --grid 256 --reads 17 --writes 14 --in-place --backend "$backend"
run "$cli" bench streams --grid 256 --reads 9 --writes 3 --in-place --backend "$backend"
run "$cli" bench streams --grid 256 --reads 4 --writes 2 --backend "$backend"
# The one table of issue 8, and its JSON.
run "$cli" bench all --backend "$backend"
json all.json "$cli" bench all --backend "$backend"
