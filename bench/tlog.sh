#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tamper-evident log benchmark, called by bench/run as `bench/tlog.sh BIN BDIR`.
# bench_tlog (BDIR/bench/bench_tlog) measures, on a real disk under BDIR:
# durable appends/s with group commit at batch sizes 1, 10, 100, 1000 (one
# fdatasync per batch); on a log of BENCH_TLOG_LEAVES (1000000) leaves:
# inclusion and consistency proof generation/s, proof verification in us,
# read-only reopen, the full recompute-and-compare audit (mv_tlog_verify_all),
# and checkpoint sign/verify per second. Prints "RESULT key=value" lines with
# ratios to the targets (50,000 appends/s, 100,000 proofs/s, 20 us,
# 5 s per million) and to Tessera (~2,900 writes/s) and Trillian (~60/s).
set -euo pipefail
bin=${1:-build/release/medverse}
bdir=${2:-$(dirname "$bin")}
leaves=${BENCH_TLOG_LEAVES:-1000000}
exe="$bdir/bench/bench_tlog"
[ -x "$exe" ] || { echo "bench/tlog.sh: $exe not built (cmake --build $bdir --target bench_tlog)"; exit 1; }
work=$(mktemp -d "$bdir/bench-tlog.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "-- tamper-evident log (src/tlog), $leaves leaves, in $work"
"$exe" "$work/log" "$leaves"
