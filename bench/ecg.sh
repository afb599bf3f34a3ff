#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# QRS detector benchmark, called by bench/run as `bench/ecg.sh BIN BDIR`.
# bench_ecg (BDIR/bench/bench_ecg) runs the detector (src/sig/qrs.c) on
# the shared MIT-BIH records 100-124 and the noise stress records
# 118e24/e12/e00 (MV_SHARED_DATA, default ../shared/data): offline in the
# default mode (both ECG leads) and on signal 0 alone, streaming on signal
# 0, scores them with our EC57 comparison (mv_sig_ec57_compare)
# and prints "RESULT key=value" lines: per-record and pooled Se / +P / DER,
# the streaming delay, ms per 30-min record on one core (median of
# BENCH_ECG_RUNS runs, default 11) and memory. WFDB's gqrs/bxb are not
# packaged in Debian, so the peers' numbers are the data README's reference
# numbers, printed labelled as such. Then the CLI end to end:
# `medverse ecg detect` on record 100 under /usr/bin/time -v.
set -euo pipefail
bin=${1:-build/release/medverse}
bdir=${2:-$(dirname "$bin")}
root=$(cd "$(dirname "$0")/.." && pwd)
data=${MV_SHARED_DATA:-$root/../shared/data}
exe="$bdir/bench/bench_ecg"
[ -x "$exe" ] || { echo "bench/ecg.sh: $exe not built (cmake --build $bdir --target bench_ecg)"; exit 1; }
[ -d "$data/mitdb" ] || { echo "bench/ecg.sh: $data/mitdb absent, skipping the QRS benchmark"; exit 0; }
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
echo "-- QRS detection (src/sig/qrs.c) on $data/mitdb and $data/nstdb, one core"
if command -v gqrs >/dev/null && command -v bxb >/dev/null; then
  echo "note: WFDB gqrs/bxb found on PATH; this script still prints the README reference numbers"
fi
"${pin[@]}" "$exe" "$data/mitdb" "$data/nstdb" "${BENCH_ECG_RUNS:-11}"
work=$(mktemp -d "$bdir/bench-ecg.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -x /usr/bin/time ]; then
  "${pin[@]}" /usr/bin/time -v "$bin" ecg detect "$data/mitdb/100" --out-dir "$work" \
    2>"$work/time" >/dev/null || { cat "$work/time"; exit 1; }
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time")
  echo "RESULT cli.ecg_detect_100 wall=$wall max_rss_kb=$rss (includes reading the record)"
fi
