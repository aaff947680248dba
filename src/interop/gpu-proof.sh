#!/usr/bin/env bash
# Runs on the GPU machine (see gpu-kit.sh): registers NVIDIA's OpenCL,
# points the Vulkan and EGL loaders at NVIDIA's drivers, then runs the
# proof on bhte and vwe.  Logs and PNGs go to $OUT (or /tmp/out).
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
ocl=$(find /usr/local/nvidia /usr/lib /usr/lib64 -name 'libnvidia-opencl.so.1' 2>/dev/null | head -1)
mkdir -p /etc/OpenCL/vendors
echo "${ocl:-libnvidia-opencl.so.1}" > /etc/OpenCL/vendors/nvidia.icd
export LD_LIBRARY_PATH="$PWD/.dev-interop/lib:${ocl:+$(dirname "$ocl"):}/usr/local/nvidia/lib64:/usr/local/nvidia/lib"
nvidia-smi -L
P=.dev-interop/bin/wb-interop-proof
run () {
  local name=$1 limit=$2; shift 2
  echo "=== $name: $*"
  timeout "$limit" "$P" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  echo "exit $rc" >> "$OUT/$name.log"
  cat "$OUT/$name.log"
  return $rc
}
if [ "${1:-}" = runner ]; then
  # The app's arrangement (--runner): the solver free-running on a WbRunner
  # worker that publishes through its hook, the main thread showing at
  # 60 frames/s; 3 s with the display on, 3 s off; the frame shown at the
  # end checked against the solver's field.
  run bhte64-runner 40 -p bhte-focused-ultrasound --slice 44 -n 50 -k 10 --checks 1 --no-compare --runner 3
  WAVEBENCH_INTEROP_SYNC=finish run bhte64-runner-finish 40 -p bhte-focused-ultrasound --slice 44 -n 50 -k 10 --checks 1 --no-compare --runner 3
  run bhte256-runner 40 -p bhte-focused-ultrasound --set 'grid.shape=[256,256,256]' --slice 44 -n 50 -k 10 --checks 1 --no-compare --runner 3
  run vwe2d-runner 40 -p vwe-point-source-2d --set 'grid.shape=[2048,2048]' -n 50 -k 10 --checks 1 --no-compare --runner 3
  WAVEBENCH_DISPLAY_PATH=host-copy run vwe2d-runner-host 40 -p vwe-point-source-2d --set 'grid.shape=[2048,2048]' -n 50 -k 10 --checks 1 --no-compare --runner 3
elif [ "${1:-}" = sync ]; then
  # Semaphore hand-off against finishing, short limits: a GPU-side wait
  # that never ends must not eat the device time.
  run bhte64-sem 20 -p bhte-focused-ultrasound --slice 44 -n 300 -k 10 || exit 1
  WAVEBENCH_INTEROP_SYNC=finish run bhte64-finish 20 -p bhte-focused-ultrasound --slice 44 -n 300 -k 10 --no-compare
  run vwe2d-sem 25 -p vwe-point-source-2d --set 'grid.shape=[2048,2048]' -n 200 -k 10 --checks 2 --no-compare
  WAVEBENCH_INTEROP_SYNC=finish run vwe2d-finish 25 -p vwe-point-source-2d --set 'grid.shape=[2048,2048]' -n 200 -k 10 --checks 2 --no-compare
  run bhte256-sem 25 -p bhte-focused-ultrasound --set 'grid.shape=[256,256,256]' --slice 44 -n 200 -k 10 --checks 2 --no-compare
else
  run bhte64 60 -p bhte-focused-ultrasound --slice 44 -n 300 -k 10 --out "$OUT"
  run vwe96 60 -p vwe-homogeneous-3d -n 200 -k 10 --checks 2
  run bhte256 60 -p bhte-focused-ultrasound --set 'grid.shape=[256,256,256]' --slice 44 -n 200 -k 10 --checks 2
  run vwe2d 60 -p vwe-point-source-2d --set 'grid.shape=[2048,2048]' -n 200 -k 10 --checks 2
  WAVEBENCH_DISPLAY_PATH=host-copy run bhte64-forced-host 60 -p bhte-focused-ultrasound --slice 44 -n 100 -k 10 --checks 1 --no-compare
fi
grep -h "^RESULT" "$OUT"/*.log
