#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Device ingestion benchmark, called by bench/run as `bench/ingest.sh BIN
# BDIR`. Starts a release server (serve, MLLP listener on) on a temporary
# data directory and uses `medverse simulate` as the load generator; every
# number counts only acknowledgements sent after the durable commit.
#  (a) vital-sign values/s over the WebSocket device protocol (as fast as
#      acks allow, 100 readings x 5 values per message) vs the 100,000/s target;
#  (b) 200 concurrent 250 Hz ECG streams in real time (QRS detection runs
#      on every chunk): samples acked/s vs the 50,000/s real-time rate, and
#      the ack latency (the lag);
#  (c) HL7 ORU^R01 over MLLP acked/s vs the 5,000/s target;
#  (d) p50/p99 delay from a reading arriving to its appearance on a
#      subscribed /ws client (bench/ingest_sub.mjs), 20 patients at 1 Hz.
# BENCH_SECONDS (default 10) sets each run's length. Prints a table and
# RESULT lines.
set -euo pipefail
bin=${1:-build/release/medverse}
bdir=${2:-$(dirname "$bin")}
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${BENCH_SECONDS:-10}
work=$(mktemp -d "$bdir/bench-ingest.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

mllp_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --listen 127.0.0.1:0 --mllp-port "$mllp_port" --data-dir "$work/data" \
  --log-level warn >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/out" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/out")
[ -n "$url" ] || { echo "bench/ingest.sh: server did not start"; cat "$work/err"; exit 1; }
echo bench-password-1 | "$bin" admin user add bench-doc --role clinician --password-stdin \
  --data-dir "$work/data" >/dev/null 2>&1
echo bench-password-1 >"$work/pw"
echo bench-password-1 | "$bin" admin user add bench-admin --role admin --password-stdin \
  --data-dir "$work/data" >/dev/null 2>&1

sim() { # name args...
  local name=$1; shift
  "$bin" simulate --server "$url" --user bench-doc --password-file "$work/pw" --quiet "$@" \
    >"$work/$name.json" 2>"$work/$name.err" || true
  [ -s "$work/$name.json" ] || { echo "bench/ingest.sh: $name failed"; cat "$work/$name.err"; }
  echo "RESULT ingest_$name $(cat "$work/$name.json")"
}
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$work/$1.json"; }
lat() { sed -n "s/.*\"latency_ms\":{\"p50\":\([0-9.]*\),\"p99\":\([0-9.]*\).*/\1 \2/p" "$work/$1.json"; }

echo "-- device ingestion ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), ${secs} s per run)"
sim ws_vitals --via ws --patients 32 --scenario normal --speed 0 --batch 100 --window 4 \
  --no-ecg --duration "$secs" --seed 101
sim ws_ecg --via ws --patients 200 --scenario normal --speed 1 --ecg-hz 250 --duration "$secs" --seed 102
sim mllp --via mllp --mllp "127.0.0.1:$mllp_port" --patients 64 --scenario normal --speed 0 \
  --window 32 --duration "$secs" --seed 103

# (d) live delay: 20 patients at 1 reading/s, a subscriber on each.
"$bin" simulate --server "$url" --user bench-doc --password-file "$work/pw" --quiet \
  --via http --patients 20 --scenario normal --duration 0.1 --seed 104 >/dev/null 2>&1 || true
tok=$(curl -sf -X POST "$url/auth/token" --data-urlencode grant_type=password \
  --data-urlencode username=bench-admin --data-urlencode password=bench-password-1 |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
ids=()
for i in $(seq 0 19); do
  id=$(curl -sf -H "authorization: Bearer $tok" \
    "$url/fhir/Patient?identifier=urn:medverse:simulator%7C104-$i" |
    sed -n 's/.*"fullUrl":"[^"]*\/Patient\/\([^"]*\)".*/\1/p' | head -1)
  [ -n "$id" ] && ids+=("$id")
done
node "$root/bench/ingest_sub.mjs" "$url" "$((secs + 2))" "${ids[@]}" >"$work/sub.json" &
subpid=$!
sleep 1
sim live --via ws --patients 20 --scenario normal --speed 1 --no-ecg --duration "$secs" --seed 104
wait "$subpid" || true
echo "RESULT ingest_live_delay $(cat "$work/sub.json")"

vps=$(field ws_vitals values_per_s); sps=$(field ws_ecg samples_per_s)
mps=$(field mllp messages_per_s)
read -r e50 e99 <<<"$(lat ws_ecg)"
d50=$(sed -n 's/.*"p50_ms":\([0-9.null]*\).*/\1/p' "$work/sub.json")
d99=$(sed -n 's/.*"p99_ms":\([0-9.null]*\).*/\1/p' "$work/sub.json")
printf '%-52s %14s %10s\n' "measure" "value" "target"
printf '%-52s %14s %10s\n' "(a) WebSocket vital-sign values acked/s" "${vps:-?}" "100000"
printf '%-52s %14s %10s\n' "(b) 200 ECG streams x 250 Hz: samples acked/s" "${sps:-?}" "50000"
printf '%-52s %14s %10s\n' "    ack lag p50 / p99 (ms)" "${e50:-?} / ${e99:-?}" "real time"
printf '%-52s %14s %10s\n' "(c) MLLP ORU^R01 acked/s" "${mps:-?}" "5000"
printf '%-52s %14s %10s\n' "(d) arrival -> /ws subscriber p50 / p99 (ms)" "${d50:-?} / ${d99:-?}" "-"
awk -v v="${vps:-0}" -v s="${sps:-0}" -v m="${mps:-0}" 'BEGIN {
  printf "RESULT ingest_ratios ws_values_ratio_target100k=%.2f ecg_realtime_ratio=%.2f mllp_ratio_target5k=%.2f\n",
    v / 100000, s / 50000, m / 5000 }'
kill -TERM "$pid"; wait "$pid" || true; pid=
