-- SPDX-License-Identifier: Apache-2.0
-- wrk script: durable FHIR Observation creates (POST /fhir/Observation).
-- Environment: MV_TOKEN (bearer token), MV_PATIENT (patient id).
-- Every request is a distinct heart-rate vital sign; the server answers 201
-- only after the group commit holding it is durable.
local token = os.getenv("MV_TOKEN")
local patient = os.getenv("MV_PATIENT")
local n = 0
local errors = 0

request = function()
  n = n + 1
  local body = string.format(
    '{"resourceType":"Observation","status":"final",' ..
    '"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],' ..
    '"code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}]},' ..
    '"subject":{"reference":"Patient/%s"},' ..
    '"effectiveDateTime":"2026-01-01T00:%02d:%02dZ",' ..
    '"valueQuantity":{"value":%d,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}',
    patient, math.floor(n / 60) % 60, n % 60, 50 + n % 80)
  return wrk.format("POST", "/fhir/Observation",
    { ["Content-Type"] = "application/fhir+json",
      ["Authorization"] = "Bearer " .. token,
      ["Prefer"] = "return=minimal" }, body)
end

response = function(status, headers, body)
  if status ~= 201 then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("unexpected status " .. status .. "\n") end
  end
end

done = function(summary, latency, requests)
  local non201 = summary.errors.status
  io.write(string.format("RESULT_JSON {\"requests\":%d,\"non201\":%d,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"rps\":%.1f}\n",
    summary.requests, non201, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
