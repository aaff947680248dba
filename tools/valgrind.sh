#!/usr/bin/env bash
# valgrind --leak-check=full on a CLI run of each solver, on the OpenCL
# device (when there is one) and on the reference backend.  The OpenCL
# runtime's own allocations and a glibc loader false positive are
# suppressed (tools/valgrind.supp says why, entry by entry).
# Usage: tools/valgrind.sh [BUILDDIR=_build]   (slow: minutes per run,
# PoCL compiles kernels under valgrind; not part of CI).
# Prints per run "NAME: definitely lost N bytes, errors N" and a closing
# "N passed, N failed": a run fails on any definite leak, any invalid
# read or write, or a non-zero exit.
set -uo pipefail
cd "$(dirname "$0")/.."

builddir=${1:-${WB_BUILDDIR:-_build}}
case "$builddir" in /*) ;; *) builddir="$PWD/$builddir" ;; esac
cli="$builddir/src/cli/wavebench-cli"
supp="$PWD/tools/valgrind.supp"
[ -x "$cli" ] || { echo "valgrind: build $builddir first (no $cli)"; echo "0 passed, 1 failed"; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind: not installed"; echo "0 passed, 1 failed"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export G_SLICE=always-malloc G_DEBUG=gc-friendly

cl=""
# (Not `devices | grep -q`: with pipefail, grep's early exit fails the pipe.)
devices=$("$cli" devices 2>/dev/null)
case "$devices" in opencl:0:0*|*$'\n'opencl:0:0*) cl=opencl:0:0 ;; esac

passed=0
failed=0
# run NAME EXPECTED_EXIT ARGS...
run() {
  local name=$1 expect=$2; shift 2
  local log="$work/$name.log"
  ( cd "$work" && valgrind --leak-check=full --errors-for-leak-kinds=definite \
      --show-leak-kinds=definite --suppressions="$supp" --num-callers=40 \
      --error-exitcode=99 "$cli" "$@" ) >"$log" 2>&1
  local rc=$?
  local lost errors
  lost=$(grep -E "definitely lost:" "$log" | tail -n 1 | sed -E 's/.*definitely lost: ([0-9,]+) bytes.*/\1/')
  errors=$(grep -E "ERROR SUMMARY:" "$log" | tail -n 1 | sed -E 's/.*ERROR SUMMARY: ([0-9,]+) errors.*/\1/')
  echo "$name: definitely lost ${lost:-0} bytes, errors ${errors:-?}, exit $rc"
  if [ "$rc" -eq "$expect" ] && [ "${lost:-0}" = 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    grep -E "Invalid|definitely lost in|uninitialised" -A 12 "$log" | head -n 60
    cp "$log" "$builddir/valgrind-$name.log" 2>/dev/null && echo "  log: $builddir/valgrind-$name.log"
  fi
}

small2d=(--set 'grid.shape=[64,64]')
for backend in reference $cl; do
  tag=${backend%%:*}
  run "bhte-$tag" 0 run bhte-focused-ultrasound -b "$backend" -q -n 5 --set 'grid.shape=[16,16,16]' \
    --npy T:t.npy --png T:t.png
  run "vwe2d-$tag" 0 run vwe-point-source-2d -b "$backend" -q -n 5 "${small2d[@]}" --npy Vx:v.npy --csv s.csv
  run "vwe3d-$tag" 0 run vwe-homogeneous-3d -b "$backend" -q -n 3 --set 'grid.shape=[32,32,32]' --png Vx:v.png
done
( cd "$work" && "$cli" synth -o in.sgy --midpoints 0,0,25,25,9,9 -n 100 >/dev/null 2>&1 )
for backend in reference $cl; do
  tag=${backend%%:*}
  run "pstm-$tag" 0 migrate in.sgy -v 2000 -o image.sgy -b "$backend" --npy img
done
run "synth" 0 synth -o s2.sgy --midpoints 0,0,25,25,5,5 -n 50
run "bad-input" 2 validate no-such-preset

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
