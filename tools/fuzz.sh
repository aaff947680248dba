#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a given
# time.  Usage: tools/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET...]
#   targets: preset set npy segy kerneldir (default: all)
# Environment: WB_FUZZ_BUILDDIR (default _build-fuzz), WB_FUZZ_JOBS (parallel
# workers per target, default 1), WB_FUZZ_RUNS (also stop after this many
# executions, whichever comes first).
# Seeds are read from tests/fuzz/corpus/TARGET (never written); what the
# fuzzer finds goes to BUILDDIR/fuzz-corpus/TARGET, crashes, leaks and hangs
# to BUILDDIR/fuzz-artifacts/.  Prints one line per target
#   fuzz-TARGET: N executions in S s (N/s), corpus N, crashes N
# and a closing "N passed, N failed" (one case per target).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(preset set npy segy kerneldir)
builddir=${WB_FUZZ_BUILDDIR:-_build-fuzz}
jobs=${WB_FUZZ_JOBS:-1}

if ! command -v clang >/dev/null; then
  echo "fuzz: clang is not installed (tools/setup.sh installs it)"
  echo "0 passed, 1 failed"
  exit 1
fi

if [ ! -f "$builddir/build.ninja" ]; then
  CC=clang meson setup "$builddir" -Dfuzzers=true -Dgui=disabled \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized \
    >"${TMPDIR:-/tmp}/wb-fuzz-setup.log" 2>&1 || { cat "${TMPDIR:-/tmp}/wb-fuzz-setup.log"; echo "0 passed, 1 failed"; exit 1; }
fi
targets_ninja=()
for t in "${targets[@]}"; do targets_ninja+=("tests/fuzz/fuzz-$t"); done
if ! ninja -C "$builddir" "${targets_ninja[@]}" >"$builddir/fuzz-build.log" 2>&1; then
  tail -n 40 "$builddir/fuzz-build.log"
  echo "0 passed, 1 failed"
  exit 1
fi

# Inputs beyond these sizes explore nothing new (headers are small).
declare -A max_len=( [preset]=16384 [set]=1024 [npy]=8192 [segy]=24000 [kerneldir]=8192 )

# UBSan findings are errors, not notes; ASan checks leaks at exit and libFuzzer
# per input.  Criticals are fatal inside the targets themselves.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# intercept_strstr=0: ASan's strstr check takes strlen of the haystack on
# every call, which makes g_strsplit quadratic on kernel sources.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:intercept_strstr=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tools/lsan.supp:print_suppressions=0}
# Scratch files (the kernel-directory target writes some) go to memory.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  export TMPDIR=/dev/shm
fi
export G_SLICE=always-malloc

passed=0
failed=0
for t in "${targets[@]}"; do
  exe="$builddir/tests/fuzz/fuzz-$t"
  seeds="tests/fuzz/corpus/$t"
  work="$builddir/fuzz-corpus/$t"
  art="$builddir/fuzz-artifacts"
  log="$builddir/fuzz-$t.log"
  mkdir -p "$work" "$art"
  before=$(ls "$art" | grep -c "^$t-" || true)
  limit=(-max_total_time="$seconds")
  [ -n "${WB_FUZZ_RUNS:-}" ] && limit+=(-runs="$WB_FUZZ_RUNS")
  extra=()
  if [ "$jobs" -gt 1 ]; then
    extra=(-jobs="$jobs" -workers="$jobs")
  fi
  t0=$(date +%s)
  "$exe" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -max_len="${max_len[$t]:-8192}" \
    -print_final_stats=1 -artifact_prefix="$art/$t-" "${extra[@]}" \
    "$work" "$seeds" >"$log" 2>&1
  rc=$?
  t1=$(date +%s)
  if [ "$jobs" -gt 1 ]; then
    cat fuzz-*.log >>"$log" 2>/dev/null; rm -f fuzz-*.log
  fi
  execs=$(grep -h "stat::number_of_executed_units" "$log" | awk '{s += $2} END {print s + 0}')
  elapsed=$((t1 - t0)); [ "$elapsed" -gt 0 ] || elapsed=1
  after=$(ls "$art" | grep -c "^$t-" || true)
  crashes=$((after - before))
  [ $rc -ne 0 ] && [ $crashes -eq 0 ] && crashes=1
  corpus=$(ls "$work" | wc -l)
  echo "fuzz-$t: $execs executions in $elapsed s ($((execs / elapsed))/s), corpus $corpus, crashes $crashes"
  if [ $crashes -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    grep -E "ERROR|SUMMARY|runtime error|ERROR:|Bail out" "$log" | head -n 8
    echo "  log: $log; inputs: $art/$t-*"
  fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
