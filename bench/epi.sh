#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Surveillance benchmark, called by bench/run as `bench/epi.sh BIN BDIR`.
# bench_epi (BDIR/bench/bench_epi) runs EARS C1-C3 and Rt (parametric SI,
# weekly windows) on a synthetic panel of BENCH_EPI_REGIONS (3000) regions x
# 1826 days with BENCH_EPI_THREADS (2) threads. R (surveillance::earsC and
# EpiEstim::estimate_R) runs the same computation on the first
# BENCH_EPI_R_REGIONS (20) regions of the same panel, in this same run; its
# time is scaled linearly to all regions (R is ~1 s per region). Both sides
# print checksums over the common regions, which must agree to 1e-9.
set -euo pipefail
bin=${1:-build/release/medverse}
bdir=${2:-$(dirname "$bin")}
root=$(cd "$(dirname "$0")/.." && pwd)
regions=${BENCH_EPI_REGIONS:-3000}
rregions=${BENCH_EPI_R_REGIONS:-20}
threads=${BENCH_EPI_THREADS:-2}
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-epi.XXXXXX")
trap 'rm -rf "$work"' EXIT

need_r() {
  command -v Rscript >/dev/null 2>&1 &&
    Rscript -e 'suppressMessages({library(surveillance); library(EpiEstim)})' >/dev/null 2>&1
}
if ! need_r; then
  echo "-- installing R packages (r-cran-surveillance r-cran-epiestim)"
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y r-cran-surveillance r-cran-epiestim >/dev/null
fi

echo "-- surveillance: EARS C1-C3 + Rt, $regions regions x 5 years daily, $threads threads"
"$bdir/bench/bench_epi" --regions "$regions" --threads "$threads" \
  --r-regions "$rregions" --r-csv "$work/panel.csv" | tee "$work/c.txt"
TZ=UTC Rscript "$root/bench/epi_r.R" "$work/panel.csv" 2>/dev/null | tee "$work/r.txt"

get() { sed -n "s/^$1=//p" "$2"; }
c_s=$(get C_SECONDS "$work/c.txt")
r_s=$(get R_SECONDS "$work/r.txt")
awk -v cs="$c_s" -v rs="$r_s" -v n="$regions" -v k="$rregions" \
    -v ccpu="$(get C_CPU_SECONDS "$work/c.txt")" -v rcpu="$(get R_CPU_SECONDS "$work/r.txt")" \
    -v ce="$(get C_SUBSET_CHECK_EARS "$work/c.txt")" -v re="$(get R_CHECK_EARS "$work/r.txt")" \
    -v cr="$(get C_SUBSET_CHECK_RT "$work/c.txt")" -v rr="$(get R_CHECK_RT "$work/r.txt")" 'BEGIN {
  de = (ce - re) / (re == 0 ? 1 : re); if (de < 0) de = -de
  dr = (cr - rr) / (rr == 0 ? 1 : rr); if (dr < 0) dr = -dr
  printf "checksums on the %d common regions: EARS rel diff %.2g, Rt rel diff %.2g (%s)\n", k, de, dr, (de <= 1e-9 && dr <= 1e-9) ? "match" : "MISMATCH"
  rall = rs * n / k
  printf "R: %.2f s for %d regions, scaled linearly to %d regions: %.0f s\n", rs, k, n, rall
  printf "RESULT epi_c_seconds=%.3f\n", cs
  printf "RESULT epi_r_seconds_scaled=%.1f\n", rall
  printf "RESULT epi_speedup_vs_r=%.0f\n", rall / cs
  printf "CPU time: medverse %.2f s (all threads), R %.0f s scaled; CPU ratio %.0f (wall-clock ratio above uses both cores)\n", ccpu, rcpu * n / k, (rcpu * n / k) / ccpu
  printf "RESULT epi_cpu_speedup_vs_r=%.0f\n", (rcpu * n / k) / ccpu
}'
