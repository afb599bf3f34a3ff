#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Device ingestion benchmark, called by bench/run as `bench/ingest.sh BIN
# BDIR`. Starts a release server (serve, MLLP listener on) on a temporary
# data directory and uses `medverse simulate` as the load generator; every
# number counts only acknowledgements sent after the durable commit, and
# every rate is over the whole run including the final wait for acks.
#  (a1) WebSocket vital-sign values acked/s as single values: one
#       Observation (valueQuantity) per value, 100 readings x 5 values per
#       message, 32 streams, as fast as acks allow;
#  (a2) the same as series (--vitals-series 60): per message and code the
#       last 60 s of 1 Hz readings as one Observation with valueSampledData
#       (6 series x 60 data points per message); values = data points;
#       both against the 100,000 values/s target, with Observations/s;
#  (b)  200 concurrent 250 Hz ECG streams in real time (QRS detection runs
#       on every chunk): samples acked/s vs the 50,000/s real-time rate, and
#       the ack latency (the lag);
#  (c)  HL7 ORU^R01 over MLLP acked/s vs the 5,000/s target;
#  (d)  p50/p99 delay from a reading arriving to its appearance on a
#       subscribed /ws client (bench/ingest_sub.mjs), 20 patients at 1 Hz.
# BENCH_SECONDS (default 10) sets each run's length; SERIES_N (default 60)
# the series length of (a2). Prints a table and RESULT lines. Exit status 0
# when every measurement produced a number, 1 otherwise ((d) is skipped
# without node).
set -euo pipefail
bin=${1:-build/release/medverse}
bdir=${2:-$(dirname "$bin")}
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${BENCH_SECONDS:-10}
series_n=${SERIES_N:-60}
[ -x "$bin" ] || { echo "bench/ingest.sh: $bin is not an executable"; exit 1; }
mkdir -p "$bdir"
work=$(mktemp -d "$bdir/bench-ingest.XXXXXX")
pid= subpid= failed=0
cleanup() {
  [ -n "$subpid" ] && kill "$subpid" 2>/dev/null
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
  [ -n "$pid" ] && { timeout 20 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null; }
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A run may take secs plus the simulator's 5 s drain plus login and
# Patient creation; anything beyond this is a hang.
limit=$((secs + 90))

mllp_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --listen 127.0.0.1:0 --mllp-port "$mllp_port" --data-dir "$work/data" \
  --log-level warn >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 200); do
  grep -q '^listening on ' "$work/out" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/out")
[ -n "$url" ] || { echo "bench/ingest.sh: server did not start"; cat "$work/err"; exit 1; }
for u in bench-doc:clinician bench-admin:admin; do
  echo bench-password-1 | timeout 60 "$bin" admin user add "${u%%:*}" --role "${u##*:}" \
    --password-stdin --data-dir "$work/data" >/dev/null 2>&1 ||
    { echo "bench/ingest.sh: cannot add user ${u%%:*}"; exit 1; }
done
echo bench-password-1 >"$work/pw"

sim() { # name args...
  local name=$1; shift
  timeout -k 5 "$limit" "$bin" simulate --server "$url" --user bench-doc \
    --password-file "$work/pw" --quiet "$@" >"$work/$name.json" 2>"$work/$name.err" || true
  if [ -s "$work/$name.json" ]; then
    echo "RESULT ingest_$name $(cat "$work/$name.json")"
  else
    echo "bench/ingest.sh: $name failed"; head -c 2000 "$work/$name.err"; failed=1
    : >"$work/$name.json"
  fi
}
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$work/$1.json"; }
lat() { sed -n "s/.*\"latency_ms\":{\"p50\":\([0-9.]*\),\"p99\":\([0-9.]*\).*/\1 \2/p" "$work/$1.json"; }

echo "-- device ingestion ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), ${secs} s per run)"
sim ws_vitals --via ws --patients 32 --scenario normal --speed 0 --batch 100 --window 4 \
  --no-ecg --duration "$secs" --seed 101
sim ws_series --via ws --patients 32 --scenario normal --speed 0 --vitals-series "$series_n" \
  --window 16 --no-ecg --duration "$secs" --seed 105
sim ws_ecg --via ws --patients 200 --scenario normal --speed 1 --ecg-hz 250 --duration "$secs" --seed 102
sim mllp --via mllp --mllp "127.0.0.1:$mllp_port" --patients 64 --scenario normal --speed 0 \
  --window 32 --duration "$secs" --seed 103

# (d) live delay: 20 patients at 1 reading/s, a subscriber on each.
: >"$work/sub.json"
if command -v node >/dev/null 2>&1; then
  timeout -k 5 "$limit" "$bin" simulate --server "$url" --user bench-doc --password-file "$work/pw" \
    --quiet --via http --patients 20 --scenario normal --duration 0.1 --seed 104 >/dev/null 2>&1 || true
  tok=$(curl -sf -m 30 -X POST "$url/auth/token" --data-urlencode grant_type=password \
    --data-urlencode username=bench-admin --data-urlencode password=bench-password-1 |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p') || true
  ids=()
  for i in $(seq 0 19); do
    id=$(curl -sf -m 30 -H "authorization: Bearer $tok" \
      "$url/fhir/Patient?identifier=urn:medverse:simulator%7C104-$i" |
      sed -n 's/.*"fullUrl":"[^"]*\/Patient\/\([^"]*\)".*/\1/p' | head -1) || true
    [ -n "$id" ] && ids+=("$id")
  done
  if [ "${#ids[@]}" -gt 0 ]; then
    timeout -k 5 "$limit" node "$root/bench/ingest_sub.mjs" "$url" "$((secs + 2))" "${ids[@]}" \
      >"$work/sub.json" 2>"$work/sub.err" &
    subpid=$!
    sleep 1
    sim live --via ws --patients 20 --scenario normal --speed 1 --no-ecg --duration "$secs" --seed 104
    wait "$subpid" || true
    subpid=
  fi
  if [ -s "$work/sub.json" ]; then
    echo "RESULT ingest_live_delay $(cat "$work/sub.json")"
  else
    echo "bench/ingest.sh: live delay probe failed"; head -c 2000 "$work/sub.err" 2>/dev/null; failed=1
  fi
else
  echo "bench/ingest.sh: node not found; (d) skipped"
fi

vps=$(field ws_vitals values_per_s); vops=$(field ws_vitals observations_per_s)
sps_=$(field ws_series values_per_s); sops=$(field ws_series observations_per_s)
sps=$(field ws_ecg samples_per_s)
mps=$(field mllp messages_per_s)
read -r e50 e99 <<<"$(lat ws_ecg) "
d50=$(sed -n 's/.*"p50_ms":\([0-9.null]*\).*/\1/p' "$work/sub.json")
d99=$(sed -n 's/.*"p99_ms":\([0-9.null]*\).*/\1/p' "$work/sub.json")
row() { printf '%-66s %15s %14s %10s\n' "$@"; }
row "measure" "value" "Observations/s" "target"
row "(a1) WebSocket vitals, single values: values acked/s" "${vps:-?}" "${vops:-?}" "100000"
row "     (1 Observation per value; 32 streams, 100 s x 5 values/msg)" "" "" ""
row "(a2) WebSocket vitals, series of $series_n s: values (points) acked/s" "${sps_:-?}" "${sops:-?}" "100000"
row "     (1 SampledData Observation per code; 6 x $series_n points/msg)" "" "" ""
row "(b) 200 ECG streams x 250 Hz: samples acked/s" "${sps:-?}" "" "50000"
row "    ack lag p50 / p99 (ms)" "${e50:-?} / ${e99:-?}" "" "real time"
row "(c) MLLP ORU^R01 acked/s" "${mps:-?}" "" "5000"
row "(d) arrival -> /ws subscriber p50 / p99 (ms)" "${d50:-?} / ${d99:-?}" "" "-"
awk -v v="${vps:-0}" -v w="${sps_:-0}" -v s="${sps:-0}" -v m="${mps:-0}" 'BEGIN {
  printf "RESULT ingest_ratios ws_values_ratio_target100k=%.2f ws_series_values_ratio_target100k=%.2f ecg_realtime_ratio=%.2f mllp_ratio_target5k=%.2f\n",
    v / 100000, w / 100000, s / 50000, m / 5000 }'
for x in "$vps" "$sps_" "$sps" "$mps"; do [ -n "$x" ] || failed=1; done
exit "$failed"
