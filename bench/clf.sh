#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Triage classifier benchmark, called by bench/run as `bench/clf.sh BIN BDIR`.
# bench_clf (BDIR/bench/bench_clf) trains on each shared triage corpus
# (MV_SHARED_DATA, default ../shared/data, then triage/<corpus>/) with the
# CLI's defaults and prints "RESULT key=value" lines: training time, dev
# accuracy / macro-F1 / top-3 / ECE (dev is used for reporting only), model
# size, median single-query latency, batched queries/s on one core, and peak
# RSS, each with its ratio to the issue's target or to scikit-learn's best
# dev numbers (0.989, 0.977 / macro-F1 0.870, 0.833). Then the CLI end to
# end: `medverse triage train` under /usr/bin/time -v (wall time, max RSS)
# and `medverse triage eval` on the dev split, pinned to one core.
set -euo pipefail
bin=${1:-build/release/medverse}
bdir=${2:-$(dirname "$bin")}
root=$(cd "$(dirname "$0")/.." && pwd)
data=${MV_SHARED_DATA:-$root/../shared/data}/triage
exe="$bdir/bench/bench_clf"
[ -x "$exe" ] || { echo "bench/clf.sh: $exe not built (cmake --build $bdir --target bench_clf)"; exit 1; }
[ -d "$data" ] || { echo "bench/clf.sh: $data absent, skipping the classifier benchmark"; exit 0; }
work=$(mktemp -d "$bdir/bench-clf.XXXXXX")
trap 'rm -rf "$work"' EXIT
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
echo "-- triage classifier (src/clf) on $data, one core"
"${pin[@]}" "$exe" "$data"
for c in symptom2disease toyhom_im dxy; do
  [ -f "$data/$c/train.csv" ] || continue
  if [ -x /usr/bin/time ]; then
    "${pin[@]}" /usr/bin/time -v "$bin" triage train --train "$data/$c/train.csv" \
      --out "$work/$c.mvc" 2>"$work/time" >/dev/null
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time")
    echo "RESULT $c.cli_train_wall=$wall cli_train_max_rss_kb=$rss ratio_to_64MB=$(awk -v r="$rss" 'BEGIN{printf "%.2f", r/65536}')"
  else
    "${pin[@]}" "$bin" triage train --train "$data/$c/train.csv" --out "$work/$c.mvc" 2>/dev/null
  fi
  echo "RESULT $c.cli_model_bytes=$(stat -c %s "$work/$c.mvc")"
  echo "RESULT $c.cli_eval=$("$bin" triage eval --model "$work/$c.mvc" --data "$data/$c/dev.csv")"
done
