#!/usr/bin/env bash
# Bounded memory of `wavebench-cli migrate`: synthesises files of N short
# traces (16 samples, zero offset, midpoints 10 m apart) and migrates each
# onto a 200 x 200 x 16 grid (tiles sized by the aperture: 8 x 8 columns), printing the peak resident memory.
# Memory should grow by about 20 bytes per trace (the geometry table kept
# by the header scan), not with the file size (304 bytes per trace here).
#   tools/pstm-memory-check.sh [BUILD_DIR] [BACKEND] [N...]
set -euo pipefail
build=${1:-_build}
backend=${2:-reference}
shift $(( $# >= 2 ? 2 : $# )) || true
sizes=${*:-250000 1000000}
cli=$build/src/cli/wavebench-cli
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

for n in $sizes; do
  side=$(python3 -c "import math; print(int(math.isqrt($n)))")
  count=$(( side * side ))
  "$cli" synth -q -o "$dir/in.sgy" --midpoints 0,0,10,10,$side,$side --samples 16 \
    --diffractor 500,500,0.02 --origin 600000,5000000
  size=$(stat -c %s "$dir/in.sgy")
  /usr/bin/time -f "%M %e" -o "$dir/time" "$cli" migrate "$dir/in.sgy" -v 2000 -o "$dir/out.sgy" \
    -b "$backend" --grid 600000,5000000,50,50,200,200 --aperture 0,50 --no-checkpoint -q
  read -r rss secs < "$dir/time"
  printf '%9d traces  file %6.1f MiB  peak RSS %6.1f MiB  %6.1f s  (%s)\n' \
    "$count" "$(echo "$size / 1048576" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "$secs" "$backend"
  rm -f "$dir/in.sgy" "$dir/out.sgy" "$dir/out-fold.sgy"
done
