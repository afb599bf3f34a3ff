-- SPDX-License-Identifier: Apache-2.0
-- wrk script: Observation?patient=X&code=Y&date=ge...&_count=50 against a
-- store loaded by bench_fhir_load. Patients and codes rotate per request.
-- Environment: MV_TOKEN, MV_PATIENTS (how many patients bench-p1..N),
-- MV_SINCE (date lower bound).
local token = os.getenv("MV_TOKEN")
local patients = tonumber(os.getenv("MV_PATIENTS") or "1000")
local since = os.getenv("MV_SINCE") or "2026-01-01"
local codes = { "8867-4", "9279-1", "59408-5", "8310-5", "85354-9" }
local n = 0
local short = 0

request = function()
  n = n + 1
  local p = (n * 7919) % patients
  local c = codes[n % #codes + 1]
  return wrk.format("GET", string.format(
    "/fhir/Observation?patient=bench-p%d&code=http://loinc.org%%7C%s&date=ge%s&_count=50", p, c, since),
    { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/fhir+json" })
end

response = function(status, headers, body)
  if status ~= 200 then
    short = short + 1
    if short <= 3 then io.stderr:write("unexpected status " .. status .. "\n") end
  end
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT_JSON {\"requests\":%d,\"non200\":%d,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"rps\":%.1f}\n",
    summary.requests, summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
