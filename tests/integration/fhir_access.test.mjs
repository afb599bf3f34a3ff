// SPDX-License-Identifier: Apache-2.0
// Who may do what: every role against every endpoint and method (allowed
// and denied answers), consent, the audit trail a patient can read,
// erasure by key destruction, login rate limiting, disabled accounts, and
// fhir-kit-client as a real FHIR client (CRUD, paging, If-Match).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFhir, http, vital, login, addUser, PW } from './fhir_fx.mjs';
import { run } from './helpers.mjs';
import { fhirClient } from './fhir_peers.mjs';

let S;
before(async () => {
  S = await startFhir();
  addUser(S.srv.dataDir, 'epi1', 'public-health');
  S.tok.epi = await login(S.base, 'epi1');
});
after(async () => {
  if (!S) return;
  const r = await S.srv.stop();
  // exit 0 also means no sanitizer report (leaks, memory errors)
  assert.equal(r.code, 0, `server exited ${r.code}/${r.signal}:\n${S.srv.stderr()}`);
});

async function asAdmin(method, path, body) {
  const r = await http(S.base, method, path, { token: S.tok.admin, body });
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.json;
}

test('role x endpoint matrix', async () => {
  const other = await asAdmin('POST', '/fhir/Patient', { resourceType: 'Patient', gender: 'unknown' });
  // epi: the public-health role, which never reaches a patient record.
  const roles = ['none', 'patient', 'doc1', 'doc2', 'admin', 'auditor', 'device', 'epi'];
  // Each row: [name, request factory, expected status per role (in `roles` order)]
  const rows = [
    ['read own-compartment Patient', async () => ['GET', '/fhir/Patient/pat-a'], [401, 200, 200, 403, 200, 403, 403, 403]],
    ['read another Patient', async () => ['GET', `/fhir/Patient/${other.id}`], [401, 403, 403, 403, 200, 403, 403, 403]],
    ['search Observation of pat-a', async () => ['GET', '/fhir/Observation?patient=pat-a'], [401, 200, 200, 403, 200, 403, 403, 403]],
    ['search Observation naming no patient', async () => ['GET', '/fhir/Observation'], [401, 200, 200, 200, 200, 403, 403, 403]],
    ['search Patient naming no patient', async () => ['GET', '/fhir/Patient'], [401, 200, 200, 200, 200, 403, 403, 403]],
    ['create Observation for pat-a', async () => ['POST', '/fhir/Observation', vital('pat-a', '8867-4', 70, '/min')], [401, 201, 201, 403, 201, 403, 201, 403]],
    ['create Observation for another patient', async () => ['POST', '/fhir/Observation', vital(other.id, '8867-4', 70, '/min')], [401, 403, 403, 403, 201, 403, 403, 403]],
    ['update Patient pat-a', async () => {
      const p = await asAdmin('GET', '/fhir/Patient/pat-a');
      delete p.meta;
      return ['PUT', '/fhir/Patient/pat-a', p];
    }, [401, 403, 200, 403, 200, 403, 403, 403]],
    ['delete an Observation of pat-a', async () => {
      const o = await asAdmin('POST', '/fhir/Observation', vital('pat-a', '8867-4', 71, '/min'));
      return ['DELETE', `/fhir/Observation/${o.id}`];
    }, [401, 403, 204, 403, 204, 403, 403, 403]],
    ['instance history of pat-a', async () => ['GET', '/fhir/Patient/pat-a/_history'], [401, 200, 200, 403, 200, 403, 403, 403]],
    ['type history of Observation', async () => ['GET', '/fhir/Observation/_history'], [401, 403, 403, 403, 200, 403, 403, 403]],
    ['audit trail of pat-a', async () => ['GET', '/fhir/AuditEvent?patient=pat-a'], [401, 200, 403, 403, 200, 200, 403, 403]],
    ['write an AuditEvent', async () => ['POST', '/fhir/AuditEvent', { resourceType: 'AuditEvent' }], [401, 403, 403, 403, 403, 403, 403, 403]],
    ['create a Patient', async () => ['POST', '/fhir/Patient', { resourceType: 'Patient' }], [401, 403, 201, 201, 201, 403, 403, 403]],
    ['read a Practitioner', async () => ['GET', '/fhir/Practitioner/prac-doc1'], [401, 403, 200, 200, 200, 403, 403, 403]],
    ['vread own-compartment Patient', async () => ['GET', '/fhir/Patient/pat-a/_history/1'], [401, 200, 200, 403, 200, 403, 403, 403]],
    ['capabilities (public)', async () => ['GET', '/fhir/metadata'], [200, 200, 200, 200, 200, 200, 200, 200]],
    ['POST _search for pat-a', async () => ['POST', '/fhir/Observation/_search', 'patient=pat-a', { 'content-type': 'application/x-www-form-urlencoded' }], [401, 200, 200, 403, 200, 403, 403, 403]],
    ['transaction creating an Observation for pat-a', async () => ['POST', '/fhir', {
      resourceType: 'Bundle', type: 'transaction',
      entry: [{ resource: vital('pat-a', '8867-4', 77, '/min'), request: { method: 'POST', url: 'Observation' } }],
    }], [401, 200, 200, 403, 200, 403, 200, 403]],
    ['delete a Patient', async () => {
      const p = await asAdmin('POST', '/fhir/Patient', { resourceType: 'Patient' });
      return ['DELETE', `/fhir/Patient/${p.id}`];
    }, [401, 403, 403, 403, 204, 403, 403, 403]],
    ['type history of AuditEvent', async () => ['GET', '/fhir/AuditEvent/_history?_count=5'], [401, 403, 403, 403, 200, 200, 403, 403]],
    ['erase a patient', async () => {
      const p = await asAdmin('POST', '/fhir/Patient', { resourceType: 'Patient' });
      return ['POST', `/fhir/Patient/${p.id}/$erase`, { resourceType: 'Parameters', parameter: [{ name: 'confirm', valueString: p.id }] }];
    }, [401, 403, 403, 403, 200, 403, 403, 403]],
  ];
  const failures = [];
  let checked = 0;
  for (const [name, make, want] of rows) {
    for (let i = 0; i < roles.length; i++) {
      const [method, path, body, headers] = await make();
      const token = roles[i] === 'none' ? undefined : S.tok[roles[i]];
      const raw = typeof body === 'string';
      const r = await http(S.base, method, path, { token, body, raw, headers });
      checked++;
      if (r.status !== want[i]) failures.push(`${name} as ${roles[i]}: want ${want[i]}, got ${r.status} ${r.text.slice(0, 160)}`);
      if (r.status >= 400) assert.equal(r.json?.resourceType, 'OperationOutcome', `${name}/${roles[i]}: ${r.text}`);
      if (r.status === 401) assert.match(r.headers.get('www-authenticate') || '', /^Bearer/);
    }
  }
  assert.deepEqual(failures, []);
  assert.equal(checked, rows.length * roles.length);
});

test('searches stay inside what a role may see', async () => {
  // doc2 cares for nobody: a search across "their" patients returns nothing
  const r = await http(S.base, 'GET', '/fhir/Observation?_count=100', { token: S.tok.doc2 });
  assert.equal(r.status, 200);
  assert.equal(r.json.total, 0);
  // the patient sees only their own compartment
  const p = await http(S.base, 'GET', '/fhir/Patient?_count=100', { token: S.tok.patient });
  assert.deepEqual(p.json.entry.map((e) => e.resource.id), ['pat-a']);
  // a narrower scope narrows the patient's access
  const narrow = await (await fetch(S.base + '/auth/token', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: 'pat1', password: PW, scope: 'patient/Observation.read' }).toString(),
  })).json();
  assert.equal(narrow.scope, 'patient/Observation.read');
  assert.equal((await http(S.base, 'GET', '/fhir/Observation', { token: narrow.access_token })).status, 200);
  assert.equal((await http(S.base, 'GET', '/fhir/Condition', { token: narrow.access_token })).status, 403);
  assert.equal((await http(S.base, 'GET', '/fhir/Patient/pat-a', { token: narrow.access_token })).status, 403);
  // a version is read-only
  const v = await http(S.base, 'PUT', '/fhir/Patient/pat-a/_history/1', { token: S.tok.admin, body: { resourceType: 'Patient', id: 'pat-a' } });
  assert.equal(v.status, 405);
  assert.match(v.headers.get('allow'), /GET/);
});

test('a clinician search across the care team is in each patient\'s trail', async () => {
  const before = await http(S.base, 'GET', '/fhir/AuditEvent?patient=pat-a&_count=1000', { token: S.tok.patient });
  const n0 = (before.json.entry || []).filter((e) => e.resource.subtype?.[0]?.code === 'search-type' && e.resource.agent?.[0]?.who?.identifier?.value === 'doc1').length;
  const s = await http(S.base, 'GET', '/fhir/Observation?_count=5', { token: S.tok.doc1 });
  assert.equal(s.status, 200);
  assert.ok(s.json.total > 0);
  let n1 = n0;
  for (let i = 0; i < 50 && n1 === n0; i++) {
    const a = await http(S.base, 'GET', '/fhir/AuditEvent?patient=pat-a&_count=1000', { token: S.tok.patient });
    n1 = (a.json.entry || []).filter((e) => e.resource.subtype?.[0]?.code === 'search-type' && e.resource.agent?.[0]?.who?.identifier?.value === 'doc1').length;
    if (n1 === n0) await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(n1, n0 + 1);
});

test('a denying Consent blocks a clinician; withdrawing it restores access', async () => {
  const before1 = await http(S.base, 'GET', '/fhir/Patient/pat-a', { token: S.tok.doc1 });
  assert.equal(before1.status, 200);
  const consent = await asAdmin('POST', '/fhir/Consent', {
    resourceType: 'Consent', status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: 'Patient/pat-a' },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
    provision: { type: 'deny', actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: { reference: 'Practitioner/prac-doc1' } }] },
  });
  const denied = await http(S.base, 'GET', '/fhir/Patient/pat-a', { token: S.tok.doc1 });
  assert.equal(denied.status, 403, denied.text);
  const s = await http(S.base, 'GET', '/fhir/Observation?patient=pat-a', { token: S.tok.doc1 });
  assert.equal(s.status, 403);
  await asAdmin('DELETE', `/fhir/Consent/${consent.id}`);
  const again = await http(S.base, 'GET', '/fhir/Patient/pat-a', { token: S.tok.doc1 });
  assert.equal(again.status, 200);
});

test('a Consent denying an organisation blocks its clinicians', async () => {
  run(['admin', 'user', 'add', 'doc3', '--role', 'clinician', '--fhir-id', 'prac-doc3', '--org', 'org-east',
    '--password-stdin', '--data-dir', S.srv.dataDir], { input: PW + '\n' });
  const t = await login(S.base, 'doc3'); // creates Practitioner/prac-doc3
  await asAdmin('POST', '/fhir/CareTeam', {
    resourceType: 'CareTeam', status: 'active', subject: { reference: 'Patient/pat-a' },
    participant: [{ member: { reference: 'Practitioner/prac-doc3' } }],
  });
  assert.equal((await http(S.base, 'GET', '/fhir/Patient/pat-a', { token: t })).status, 200);
  const c = await asAdmin('POST', '/fhir/Consent', {
    resourceType: 'Consent', status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: 'Patient/pat-a' },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
    provision: { type: 'deny', actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: { reference: 'Organization/org-east' } }] },
  });
  assert.equal((await http(S.base, 'GET', '/fhir/Patient/pat-a', { token: t })).status, 403);
  assert.equal((await http(S.base, 'GET', '/fhir/Patient/pat-a', { token: S.tok.doc1 })).status, 200);
  await asAdmin('DELETE', `/fhir/Consent/${c.id}`);
  assert.equal((await http(S.base, 'GET', '/fhir/Patient/pat-a', { token: t })).status, 200);
});

test('a patient sees who accessed their record', async () => {
  const r0 = await http(S.base, 'GET', '/fhir/Patient/pat-a', { token: S.tok.doc1 });
  assert.equal(r0.status, 200);
  // audit writes of reads are queued, not awaited: poll briefly
  let found = null;
  for (let i = 0; i < 50 && !found; i++) {
    const a = await http(S.base, 'GET', '/fhir/AuditEvent?patient=pat-a&_count=1000', { token: S.tok.patient });
    assert.equal(a.status, 200, a.text);
    found = (a.json.entry || []).map((e) => e.resource).find((ae) =>
      ae.agent?.[0]?.who?.identifier?.value === 'doc1' && ae.subtype?.[0]?.code === 'read' && ae.outcome === '0');
    if (!found) await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(found, 'the read by doc1 is in the audit trail');
  assert.equal(found.outcome, '0');
  assert.ok(found.agent[0].network.address);
  // another patient's audit trail is not theirs to read
  const other = await http(S.base, 'GET', '/fhir/AuditEvent?patient=someone-else', { token: S.tok.patient });
  assert.equal(other.status, 403);
});

test('erasing a patient makes their records 410 and leaves the rest working', async () => {
  const p = await asAdmin('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Erasable' }] });
  const o = await asAdmin('POST', '/fhir/Observation', vital(p.id, '8867-4', 90, '/min'));
  const noConfirm = await http(S.base, 'POST', `/fhir/Patient/${p.id}/$erase`, { token: S.tok.admin, body: { resourceType: 'Parameters', parameter: [] } });
  assert.equal(noConfirm.status, 400);
  const e = await http(S.base, 'POST', `/fhir/Patient/${p.id}/$erase`, {
    token: S.tok.admin, body: { resourceType: 'Parameters', parameter: [{ name: 'confirm', valueString: p.id }] },
  });
  assert.equal(e.status, 200, e.text);
  assert.equal((await http(S.base, 'GET', `/fhir/Patient/${p.id}`, { token: S.tok.admin })).status, 410);
  assert.equal((await http(S.base, 'GET', `/fhir/Observation/${o.id}`, { token: S.tok.admin })).status, 410);
  const s = await http(S.base, 'GET', '/fhir/Patient?family=erasable', { token: S.tok.admin });
  assert.equal(s.json.total, 0);
  assert.equal((await http(S.base, 'GET', '/fhir/Patient/pat-a', { token: S.tok.admin })).status, 200);
  const w = await http(S.base, 'POST', '/fhir/Observation', { token: S.tok.admin, body: vital(p.id, '8867-4', 90, '/min') });
  assert.ok(w.status === 410 || w.status === 422, w.text);
});

test('failed logins are rate limited per account', async () => {
  run(['admin', 'user', 'add', 'victim', '--role', 'clinician', '--password-stdin', '--data-dir', S.srv.dataDir], { input: PW + '\n' });
  const bad = () => fetch(S.base + '/auth/token', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=password&username=victim&password=wrong-password',
  });
  const codes = [];
  for (let i = 0; i < 6; i++) codes.push((await bad()).status);
  assert.deepEqual(codes.slice(0, 5), [400, 400, 400, 400, 400]);
  assert.equal(codes[5], 429);
  await assert.rejects(login(S.base, 'victim'), /429/);
});

test('a disabled account loses access at once', async () => {
  run(['admin', 'user', 'add', 'leaver', '--role', 'clinician', '--password-stdin', '--data-dir', S.srv.dataDir], { input: PW + '\n' });
  const t = await login(S.base, 'leaver');
  assert.equal((await http(S.base, 'GET', '/fhir/Practitioner?_count=1', { token: t })).status, 200);
  const d = run(['admin', 'user', 'disable', 'leaver', '--data-dir', S.srv.dataDir]);
  assert.equal(d.status, 0, d.stderr);
  const r = await http(S.base, 'GET', '/fhir/Practitioner?_count=1', { token: t });
  assert.equal(r.status, 401);
});

test('fhir-kit-client: CRUD, If-Match, paging to the end', async () => {
  const c = fhirClient(S.base + '/fhir', S.tok.doc1);
  const created = await c.create({ resourceType: 'Observation', body: vital('pat-a', '8867-4', 60, '/min', 'Heart rate', '2025-05-05T05:05:05Z') });
  assert.equal(created.meta.versionId, '1');
  const read = await c.read({ resourceType: 'Observation', id: created.id });
  assert.equal(read.id, created.id);
  const body = { ...read, status: 'amended' };
  const upd = await c.update({ resourceType: 'Observation', id: created.id, body, options: { headers: { 'If-Match': 'W/"1"' } } });
  assert.equal(upd.meta.versionId, '2');
  await assert.rejects(
    c.update({ resourceType: 'Observation', id: created.id, body, options: { headers: { 'If-Match': 'W/"1"' } } }),
    (e) => e.response?.status === 412);
  for (let i = 0; i < 7; i++)
    await c.create({ resourceType: 'Observation', body: vital('pat-a', '8867-4', 61 + i, '/min', 'Heart rate', `2025-05-05T06:0${i}:00Z`) });
  let page = await c.search({ resourceType: 'Observation', searchParams: { patient: 'pat-a', date: 'lt2025-05-06', _count: 3, _sort: 'date' } });
  let n = 0, pages = 0;
  while (page) {
    n += (page.entry || []).filter((e) => e.search.mode === 'match').length;
    pages++;
    page = await c.nextPage({ bundle: page });
  }
  assert.equal(n, 8);
  assert.equal(pages, 3);
  await c.delete({ resourceType: 'Observation', id: created.id });
  await assert.rejects(c.read({ resourceType: 'Observation', id: created.id }), (e) => e.response?.status === 410);
});
