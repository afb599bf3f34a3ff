// SPDX-License-Identifier: Apache-2.0
// The FHIR R4 API against the real server: CRUD with versions and ETags,
// history, search with paging, formats, validation errors with exact paths,
// transactions, and every resource we return checked by two validators
// nobody here wrote (@medplum/core and the `fhir` package).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFhir, http, vital } from './fhir_fx.mjs';
import { validateResource, validateBundleDeep, loadValidators } from './fhir_peers.mjs';

let S; // { srv, base, tok, dev }
const J = (x) => JSON.stringify(x);

async function valid(resource) {
  const v = resource.resourceType === 'Bundle' ? await validateBundleDeep(resource) : await validateResource(resource);
  assert.ok(v.ok, `${resource.resourceType} failed validation: ${J(v.errors)}`);
}

before(async () => {
  await loadValidators();
  S = await startFhir();
});
after(async () => {
  if (!S) return;
  const r = await S.srv.stop();
  // exit 0 also means no sanitizer report (leaks, memory errors)
  assert.equal(r.code, 0, `server exited ${r.code}/${r.signal}:\n${S.srv.stderr()}`);
});

test('metadata is a valid CapabilityStatement for FHIR 4.0.1', async () => {
  const r = await http(S.base, 'GET', '/fhir/metadata');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /application\/fhir\+json/);
  assert.equal(r.json.resourceType, 'CapabilityStatement');
  assert.equal(r.json.fhirVersion, '4.0.1');
  const types = r.json.rest[0].resource.map((x) => x.type);
  for (const t of ['Patient', 'Observation', 'Encounter', 'Condition', 'AuditEvent', 'Consent'])
    assert.ok(types.includes(t), t);
  await valid(r.json);
});

test('create, read, vread, update with If-Match, delete then 410', async () => {
  const c = await http(S.base, 'POST', '/fhir/Patient', {
    token: S.tok.doc1,
    body: { resourceType: 'Patient', name: [{ family: 'Testperson', given: ['Ada'] }], gender: 'female', birthDate: '1980-02-29' },
  });
  assert.equal(c.status, 201, c.text);
  assert.equal(c.headers.get('etag'), 'W/"1"');
  const id = c.json.id;
  assert.match(c.headers.get('location'), new RegExp(`/fhir/Patient/${id}/_history/1$`));
  assert.equal(c.json.meta.versionId, '1');
  assert.match(c.json.meta.lastUpdated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  await valid(c.json);

  const r = await http(S.base, 'GET', `/fhir/Patient/${id}`, { token: S.tok.doc1 });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('etag'), 'W/"1"');
  assert.equal(r.json.name[0].family, 'Testperson');
  await valid(r.json);

  const upd = { ...r.json, gender: 'other' };
  const u = await http(S.base, 'PUT', `/fhir/Patient/${id}`, { token: S.tok.doc1, body: upd, headers: { 'if-match': 'W/"1"' } });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.headers.get('etag'), 'W/"2"');
  const stale = await http(S.base, 'PUT', `/fhir/Patient/${id}`, { token: S.tok.doc1, body: upd, headers: { 'if-match': 'W/"1"' } });
  assert.equal(stale.status, 412);
  assert.equal(stale.json.resourceType, 'OperationOutcome');

  const v1 = await http(S.base, 'GET', `/fhir/Patient/${id}/_history/1`, { token: S.tok.doc1 });
  assert.equal(v1.status, 200);
  assert.equal(v1.json.gender, 'female');
  await valid(v1.json);

  const h = await http(S.base, 'GET', `/fhir/Patient/${id}/_history`, { token: S.tok.doc1 });
  assert.equal(h.status, 200);
  assert.equal(h.json.type, 'history');
  assert.equal(h.json.entry.length, 2);
  await valid(h.json);

  const d = await http(S.base, 'DELETE', `/fhir/Patient/${id}`, { token: S.tok.doc1 });
  assert.equal(d.status, 204);
  const g = await http(S.base, 'GET', `/fhir/Patient/${id}`, { token: S.tok.doc1 });
  assert.equal(g.status, 410);
  assert.equal(g.json.resourceType, 'OperationOutcome');
  const h2 = await http(S.base, 'GET', `/fhir/Patient/${id}/_history`, { token: S.tok.doc1 });
  assert.equal(h2.json.entry.length, 3);
  assert.equal(h2.json.entry[0].request.method, 'DELETE');
});

test('decimals come back exactly as sent', async () => {
  const body = J(vital('pat-a', '8310-5', 0, 'Cel', 'Body temperature')).replace('"value":0', '"value":37.10');
  const c = await http(S.base, 'POST', '/fhir/Observation', { token: S.tok.doc1, body, raw: true });
  assert.equal(c.status, 201, c.text);
  assert.match(c.text, /"value":37\.10[,}]/);
  const r = await http(S.base, 'GET', `/fhir/Observation/${c.json.id}`, { token: S.tok.doc1 });
  assert.match(r.text, /"value":37\.10[,}]/);
});

test('every vital sign with its UCUM unit is accepted; a wrong unit names the path', async () => {
  const ok = [['8867-4', 72, '/min'], ['9279-1', 16, '/min'], ['59408-5', 97, '%'],
    ['8310-5', 36.6, 'Cel'], ['29463-7', 70.5, 'kg'], ['8302-2', 172, 'cm']];
  for (const [code, v, unit] of ok) {
    const c = await http(S.base, 'POST', '/fhir/Observation', { token: S.tok.doc1, body: vital('pat-a', code, v, unit) });
    assert.equal(c.status, 201, `${code}: ${c.text}`);
    await valid(c.json);
  }
  const bad = await http(S.base, 'POST', '/fhir/Observation', { token: S.tok.doc1, body: vital('pat-a', '8867-4', 72, 'bpm') });
  assert.equal(bad.status, 422, bad.text);
  assert.equal(bad.json.resourceType, 'OperationOutcome');
  const exprs = bad.json.issue.flatMap((i) => i.expression || []);
  assert.ok(exprs.includes('Observation.valueQuantity.code'), J(exprs));
  // a blood-pressure panel with both components
  const bp = vital('pat-a', '85354-9', 0, 'mm[Hg]');
  delete bp.valueQuantity;
  bp.component = [
    { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 80, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
  ];
  const b = await http(S.base, 'POST', '/fhir/Observation', { token: S.tok.doc1, body: bp });
  assert.equal(b.status, 201, b.text);
  await valid(b.json);
});

test('bad input gets the right status and an OperationOutcome', async () => {
  const t = S.tok.doc1;
  const cases = [
    [await http(S.base, 'POST', '/fhir/Patient', { token: t, body: '{"resourceType":"Patient",', raw: true }), 400],
    [await http(S.base, 'POST', '/fhir/Patient', { token: t, body: { resourceType: 'Observation' } }), 400],
    [await http(S.base, 'POST', '/fhir/Observation', { token: t, body: { resourceType: 'Observation', code: { text: 'x' } } }), 422],
    [await http(S.base, 'POST', '/fhir/Observation', { token: t, body: vital('no-such-patient', '8867-4', 70, '/min') }), 422],
    [await http(S.base, 'POST', '/fhir/Patient', { token: t, body: '<Patient/>', raw: true, headers: { 'content-type': 'application/fhir+xml' } }), 415],
    [await http(S.base, 'GET', '/fhir/Patient?_format=xml', { token: t }), 415],
    [await http(S.base, 'GET', '/fhir/Patient/nope-404', { token: t }), 404],
    [await http(S.base, 'GET', '/fhir/Observation?date=notadate', { token: t }), 400],
    [await http(S.base, 'GET', '/fhir/Patient', { token: 'mv1.garbage.garbage' }), 401],
    [await http(S.base, 'GET', '/fhir/Patient'), 401],
    [await http(S.base, 'POST', '/fhir/AuditEvent', { token: S.tok.admin, body: { resourceType: 'AuditEvent' } }), 403],
  ];
  for (const [r, want] of cases) {
    assert.equal(r.status, want, r.text);
    assert.equal(r.json?.resourceType, 'OperationOutcome', r.text);
    await valid(r.json);
  }
  // a body over http-body-max (8 MiB) is refused before any handler runs,
  // and still answered with an OperationOutcome
  const big = `{"resourceType":"Patient","id":"${'x'.repeat(9 * 1024 * 1024)}"}`;
  const tooBig = await http(S.base, 'POST', '/fhir/Patient', { token: t, body: big, raw: true });
  assert.equal(tooBig.status, 413);
  assert.equal(tooBig.json?.resourceType, 'OperationOutcome', tooBig.text.slice(0, 200));
  assert.match(tooBig.headers.get('content-type'), /application\/fhir\+json/);
  const missing = await http(S.base, 'POST', '/fhir/Observation', { token: t, body: vital('no-such-patient', '8867-4', 70, '/min') });
  assert.ok(missing.json.issue.some((i) => (i.expression || []).includes('Observation.subject.reference')), missing.text);
  const ok = await http(S.base, 'GET', '/fhir/Patient?_format=json', { token: S.tok.admin });
  assert.equal(ok.status, 200);
});

test('search: codes, dates with prefixes, sort, paging until exhausted, total', async () => {
  const t = S.tok.doc1;
  const N = 23;
  for (let i = 0; i < N; i++) {
    const when = new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
    const c = await http(S.base, 'POST', '/fhir/Observation', { token: t, body: vital('pat-a', '9279-1', 10 + i, '/min', 'Respiratory rate', when) });
    assert.equal(c.status, 201, c.text);
  }
  let url = '/fhir/Observation?patient=pat-a&code=http://loinc.org|9279-1&date=ge2026-01-01&date=lt2026-01-02&_sort=-date&_count=5';
  const seen = [];
  let total = null;
  let pages = 0;
  while (url) {
    const r = await http(S.base, 'GET', url.replace(S.base, ''), { token: t });
    assert.equal(r.status, 200, r.text);
    await valid(r.json);
    total = r.json.total;
    for (const e of r.json.entry || []) if (e.search.mode === 'match') seen.push(e.resource);
    const next = (r.json.link || []).find((l) => l.relation === 'next');
    url = next ? next.url : null;
    pages++;
    assert.ok(pages < 20);
  }
  assert.equal(total, N);
  assert.equal(seen.length, N);
  for (const o of seen) {
    assert.equal(o.meta.versionId, '1');
    assert.match(o.meta.lastUpdated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
  // stored meta members (tags) survive next to the ones the server adds
  const tagged = vital('pat-a', '8310-5', 37, 'Cel', 'Body temperature', '2024-02-02T02:02:02Z');
  tagged.meta = { tag: [{ system: 'urn:example:tags', code: 'tagged' }] };
  const tc = await http(S.base, 'POST', '/fhir/Observation', { token: t, body: tagged });
  assert.equal(tc.status, 201, tc.text);
  const ts = await http(S.base, 'GET', '/fhir/Observation?patient=pat-a&code=8310-5&date=2024-02-02', { token: t });
  assert.equal(ts.json.total, 1);
  const got = ts.json.entry[0].resource;
  assert.deepEqual(got.meta.tag, tagged.meta.tag);
  assert.equal(got.meta.versionId, '1');
  assert.equal(got.meta.lastUpdated, tc.json.meta.lastUpdated);
  await valid(ts.json);
  assert.equal(pages, 5);
  const times = seen.map((o) => o.effectiveDateTime);
  assert.deepEqual(times, [...times].sort().reverse(), 'sorted by -date');
  const codeOnly = await http(S.base, 'GET', '/fhir/Observation?subject=Patient/pat-a&code=9279-1&date=lt2026-01-01T00:05:00Z&_count=100', { token: t });
  assert.equal(codeOnly.json.total, 5);
  const gt = await http(S.base, 'GET', '/fhir/Observation?patient=pat-a&code=9279-1&date=gt2026-01-01T00:20:00Z&date=lt2026-01-02', { token: t });
  assert.equal(gt.json.total, 2);
  const lu = await http(S.base, 'GET', `/fhir/Observation?patient=pat-a&code=9279-1&_lastUpdated=ge2000-01-01&date=le2026-01-01`, { token: t });
  assert.equal(lu.json.total, N);
  const fut = await http(S.base, 'GET', `/fhir/Observation?patient=pat-a&code=9279-1&_lastUpdated=gt2100-01-01`, { token: t });
  assert.equal(fut.json.total, 0);
});

test('Patient search by name, family, given, identifier, birthdate, gender', async () => {
  const t = S.tok.doc1;
  const c = await http(S.base, 'POST', '/fhir/Patient', {
    token: t,
    body: { resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: 'MRN-77' }], name: [{ family: 'Quixotic', given: ['Zed', 'Arno'] }], gender: 'male', birthDate: '1961-07' },
  });
  assert.equal(c.status, 201, c.text);
  const id = c.json.id;
  for (const q of ['name=quix', 'family=Quixotic', 'given=arn', 'identifier=urn:oid:1.2.36.146.595.217.0.1|MRN-77',
    'identifier=MRN-77', 'birthdate=1961', 'birthdate=ge1961-07-01&birthdate=le1961-07-31', 'gender=male&family=quix']) {
    const r = await http(S.base, 'GET', `/fhir/Patient?${q}`, { token: t });
    assert.equal(r.status, 200, r.text);
    assert.ok((r.json.entry || []).some((e) => e.resource?.id === id), `${q}: ${r.text}`);
  }
  const none = await http(S.base, 'GET', '/fhir/Patient?family=Quixotix', { token: t });
  assert.equal(none.json.total, 0);
  const exact = await http(S.base, 'GET', '/fhir/Patient?family:exact=Quixotic', { token: t });
  assert.ok(exact.json.entry.some((e) => e.resource.id === id), exact.text);
  const prefixOnly = await http(S.base, 'GET', '/fhir/Patient?family:exact=Quix', { token: t });
  assert.equal(prefixOnly.json.total, 0);
});

test('Encounter, Condition, Flag and Appointment search by patient, status and date', async () => {
  const t = S.tok.doc1;
  const dir = join(process.env.MV_SOURCE_DIR, 'tests/fixtures/fhir');
  const load = (f) => {
    const r = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    delete r.id;
    delete r.meta;
    return JSON.parse(JSON.stringify(r).replace(/"Patient\/[^"]+"/g, '"Patient/pat-a"')
      .replace(/"Practitioner\/[^"]+"/g, '"Practitioner/prac-doc1"'));
  };
  const enc = load('encounter.json');
  const e = await http(S.base, 'POST', '/fhir/Encounter', { token: t, body: enc });
  assert.equal(e.status, 201, e.text);
  const cond = load('condition.json');
  delete cond.encounter;
  const c = await http(S.base, 'POST', '/fhir/Condition', { token: t, body: cond });
  assert.equal(c.status, 201, c.text);
  const flag = load('flag.json');
  const f = await http(S.base, 'POST', '/fhir/Flag', { token: t, body: flag });
  assert.equal(f.status, 201, f.text);
  const appt = load('appointment.json');
  const a = await http(S.base, 'POST', '/fhir/Appointment', { token: t, body: appt });
  assert.equal(a.status, 201, a.text);
  const cases = [
    ['Encounter?patient=pat-a&status=finished&date=2024-05-01', e.json.id, true],
    ['Encounter?patient=pat-a&status=in-progress', e.json.id, false],
    ['Encounter?patient=pat-a&date=ge2024-06-01', e.json.id, false],
    ['Condition?patient=pat-a&status=active&date=2024-05-01', c.json.id, true],
    ['Condition?patient=pat-a&status=resolved', c.json.id, false],
    ['Flag?patient=pat-a&status=active&date=ge2024-05-01', f.json.id, true],
    ['Flag?patient=pat-a&status=inactive', f.json.id, false],
    ['Appointment?patient=pat-a&status=booked&date=2024-05-08', a.json.id, true],
    ['Appointment?patient=pat-a&date=lt2024-05-08', a.json.id, false],
  ];
  for (const [q, id, want] of cases) {
    const r = await http(S.base, 'GET', `/fhir/${q}`, { token: t });
    assert.equal(r.status, 200, `${q}: ${r.text}`);
    const got = (r.json.entry || []).some((x) => x.resource?.id === id);
    assert.equal(got, want, q);
    await valid(r.json);
  }
});

test('unknown parameters: warning in lenient mode, 400 under handling=strict', async () => {
  const t = S.tok.doc1;
  const r = await http(S.base, 'GET', '/fhir/Observation?patient=pat-a&foo=bar', { token: t });
  assert.equal(r.status, 200);
  const oo = r.json.entry.find((e) => e.search.mode === 'outcome');
  assert.ok(oo, r.text);
  assert.equal(oo.resource.issue[0].severity, 'warning');
  await valid(r.json);
  const s = await http(S.base, 'GET', '/fhir/Observation?patient=pat-a&foo=bar', { token: t, headers: { prefer: 'handling=strict' } });
  assert.equal(s.status, 400);
  assert.equal(s.json.resourceType, 'OperationOutcome');
});

test('transaction: urn:uuid references resolved; one bad entry writes nothing', async () => {
  const t = S.tok.doc1;
  const tx = {
    resourceType: 'Bundle', type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:11111111-2222-4333-8444-555555555555', resource: { resourceType: 'Patient', name: [{ family: 'Txperson' }] }, request: { method: 'POST', url: 'Patient' } },
      { resource: vital('x', '8867-4', 81, '/min'), request: { method: 'POST', url: 'Observation' } },
    ],
  };
  tx.entry[1].resource.subject.reference = 'urn:uuid:11111111-2222-4333-8444-555555555555';
  const r = await http(S.base, 'POST', '/fhir', { token: t, body: tx });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.type, 'transaction-response');
  await valid(r.json);
  const pid = r.json.entry[0].response.location.split('/')[1];
  const obs = r.json.entry[1].resource;
  assert.equal(obs.subject.reference, `Patient/${pid}`);

  const before = await http(S.base, 'GET', '/fhir/Patient?family=Badtx', { token: S.tok.admin });
  const bad = structuredClone(tx);
  bad.entry[0].resource.name[0].family = 'Badtx';
  bad.entry[1].resource.valueQuantity.code = 'bpm';
  const b = await http(S.base, 'POST', '/fhir', { token: t, body: bad });
  assert.ok(b.status === 400 || b.status === 422, b.text);
  const afterR = await http(S.base, 'GET', '/fhir/Patient?family=Badtx', { token: S.tok.admin });
  assert.equal(afterR.json.total, before.json.total);
  assert.equal(afterR.json.total, 0);
});

test('batch: entries succeed or fail on their own', async () => {
  const t = S.tok.doc1;
  const b = {
    resourceType: 'Bundle', type: 'batch',
    entry: [
      { resource: vital('pat-a', '8867-4', 66, '/min'), request: { method: 'POST', url: 'Observation' } },
      { resource: vital('pat-a', '8867-4', 66, 'bpm'), request: { method: 'POST', url: 'Observation' } },
      { request: { method: 'GET', url: 'Patient/pat-a' } },
    ],
  };
  const r = await http(S.base, 'POST', '/fhir', { token: t, body: b });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.type, 'batch-response');
  assert.match(r.json.entry[0].response.status, /^201/);
  assert.match(r.json.entry[1].response.status, /^4/);
  assert.match(r.json.entry[2].response.status, /^200/);
  await valid(r.json);
});

test('every resource type round-trips and validates', async () => {
  const dir = join(process.env.MV_SOURCE_DIR, 'tests/fixtures/fhir');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    const res = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    if (['Bundle', 'OperationOutcome', 'CapabilityStatement', 'AuditEvent'].includes(res.resourceType)) continue;
    // point the fixture's references at resources that exist here
    const fix = JSON.parse(J(res).replace(/"Patient\/[^"]+"/g, '"Patient/pat-a"')
      .replace(/"Practitioner\/[^"]+"/g, '"Practitioner/prac-doc1"')
      .replace(/"(Encounter|Device|Organization|Observation|CareTeam|Condition|DiagnosticReport)\/[^"]+"/g, (m, ty) => m));
    delete fix.id;
    strip(fix);
    const c = await http(S.base, 'POST', `/fhir/${fix.resourceType}`, { token: S.tok.admin, body: fix });
    assert.equal(c.status, 201, `${f}: ${c.text}`);
    await valid(c.json);
    const r = await http(S.base, 'GET', `/fhir/${fix.resourceType}/${c.json.id}`, { token: S.tok.admin });
    assert.equal(r.status, 200);
    await valid(r.json);
  }
  // AuditEvents the server wrote validate too
  const a = await http(S.base, 'GET', '/fhir/AuditEvent?_count=50', { token: S.tok.admin });
  assert.equal(a.status, 200, a.text);
  assert.ok(a.json.total > 0);
  await valid(a.json);
});

// References to resources other fixtures would create are dropped.
function strip(o) {
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v && typeof v === 'object') {
      if (typeof v.reference === 'string' && !/^(Patient\/pat-a|Practitioner\/prac-doc1)$/.test(v.reference) && !v.reference.startsWith('#')) {
        delete v.reference;
        if (Object.keys(v).length === 0) v.display = 'unlinked';
      }
      strip(v);
    }
  }
}

test('record bodies are encrypted at rest and the key file is private', async () => {
  const marker = 'Zzyzxmarkername';
  const c = await http(S.base, 'POST', '/fhir/Patient', { token: S.tok.doc1, body: { resourceType: 'Patient', name: [{ family: marker }] } });
  assert.equal(c.status, 201);
  const files = readdirSync(S.srv.dataDir).map((f) => join(S.srv.dataDir, f));
  let scanned = 0;
  for (const f of files) {
    if (!statSync(f).isFile()) continue;
    const bytes = readFileSync(f);
    scanned += bytes.length;
    assert.equal(bytes.indexOf(marker), -1, `plaintext found in ${f}`);
    assert.equal(bytes.indexOf(marker.toLowerCase()), -1, `plaintext found in ${f}`);
  }
  assert.ok(scanned > 0);
  const key = files.find((f) => f.endsWith('site.key'));
  assert.ok(key, 'site.key exists');
  assert.equal(statSync(key).mode & 0o777, 0o600);
});
