#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `medverse ledger verify` benchmark, called by bench/run as
# `bench/ledger.sh BIN BDIR`. bench_ledger_gen (BDIR/bench/bench_ledger_gen)
# builds a data directory with BENCH_LEDGER_ENTRIES (1000000) record versions,
# each with its ledger entry in the database and in the Merkle log files, and
# a signed checkpoint every 1000 entries; the real binary then audits it three
# times: the tree recomputed from the database entries, every checkpoint's
# signature and root, every record's ciphertext against its commitment, and
# the log files (mv_tlog_verify_all, on a second thread). Prints the best wall
# time, the CPU time (user + system, both threads) and the ratio to the
# issue's target (5 s per million; below 1 is better). A second directory
# with a checkpoint every 10 entries (a server signs one per group commit, so
# small batches mean many checkpoints) shows the cost of the signatures.
set -euo pipefail
bin=${1:-build/release/medverse}
bdir=${2:-$(dirname "$bin")}
n=${BENCH_LEDGER_ENTRIES:-1000000}
gen="$bdir/bench/bench_ledger_gen"
[ -x "$gen" ] || { echo "bench/ledger.sh: $gen not built (cmake --build $bdir --target bench_ledger_gen)"; exit 1; }
work=$(mktemp -d "$bdir/bench-ledger.XXXXXX")
trap 'rm -rf "$work"' EXIT

run_verify() { # name cp_every runs
  local name=$1 every=$2 runs=$3 best= best_cpu= wall user sys cpu
  rm -rf "$work/data"
  "$gen" "$work/data" "$n" "$every" 2>/dev/null
  for i in $(seq "$runs"); do
    /usr/bin/env time -f "%e %U %S" -o "$work/time" "$bin" ledger verify --timings "$work/data" \
      >"$work/out" 2>"$work/err" || { cat "$work/out" "$work/err"; exit 1; }
    read -r wall user sys <"$work/time"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    echo "   run $i: wall ${wall} s, cpu ${cpu} s; $(cat "$work/out")"
    sed 's/^/     /' "$work/err"
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$wall; best_cpu=$cpu
    fi
  done
  awk -v name="$name" -v w="$best" -v c="$best_cpu" -v n="$n" -v e="$every" 'BEGIN {
    per_m = w * 1000000 / n
    printf "RESULT %s entries=%d checkpoint_every=%d wall_s=%.2f cpu_s=%.2f s_per_million=%.2f ratio_target5s=%.2f\n",
      name, n, e, w, c, per_m, per_m / 5 }'
}

echo "-- medverse ledger verify, $n entries and record versions, in $work (load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
run_verify ledger_verify 1000 3
echo "-- the same with a checkpoint every 10 entries"
run_verify ledger_verify_cp10 10 1
