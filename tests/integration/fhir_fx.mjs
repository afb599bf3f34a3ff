// SPDX-License-Identifier: Apache-2.0
// A FHIR server fixture for integration tests: the real `medverse serve`, a
// set of accounts made with the real admin CLI while the server runs, their
// tokens from POST /auth/token, and a small HTTP helper that keeps the raw
// response text (decimals are checked on the text, not on parsed JSON).
import { run, start } from './helpers.mjs';

export const PW = 'correct horse battery staple';

export async function http(base, method, path, { token, body, headers = {}, raw = false } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    payload = raw ? body : JSON.stringify(body);
    if (!h['content-type']) h['content-type'] = 'application/fhir+json';
  }
  const res = await fetch(base + path, { method, headers: h, body: payload });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: res.status, headers: res.headers, text, json };
}

export function addUser(dataDir, name, role, extra = []) {
  const r = run(['admin', 'user', 'add', name, '--role', role, '--password-stdin',
    '--data-dir', dataDir, ...extra], { input: PW + '\n' });
  if (r.status !== 0) throw new Error(`admin user add ${name}: ${r.stderr}`);
  return r;
}

export function addDevice(dataDir, name, patient) {
  const r = run(['admin', 'device', 'add', name, '--patient', patient, '--data-dir', dataDir]);
  if (r.status !== 0) throw new Error(`admin device add: ${r.stderr}`);
  const id = r.stdout.match(/client_id:\s*(\S+)/)[1];
  const secret = r.stdout.match(/client_secret:\s*(\S+)/)[1];
  return { id, secret };
}

export async function token(base, form) {
  const res = await fetch(base + '/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const j = await res.json();
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(j)}`);
  return j.access_token;
}

export const login = (base, username) =>
  token(base, { grant_type: 'password', username, password: PW });

// Starts a server with: admin, auditor, two clinicians (doc1 on pat-a's
// care team, doc2 on none), a patient account linked to Patient pat-a, and
// a device assigned to pat-a. Returns { srv, base, tok: {role: token}, dev }.
export async function startFhir(args = []) {
  const srv = await start('serve', args);
  const base = srv.url;
  addUser(srv.dataDir, 'admin1', 'admin');
  addUser(srv.dataDir, 'audit1', 'auditor');
  addUser(srv.dataDir, 'doc1', 'clinician', ['--fhir-id', 'prac-doc1']);
  addUser(srv.dataDir, 'doc2', 'clinician', ['--fhir-id', 'prac-doc2']);
  addUser(srv.dataDir, 'pat1', 'patient', ['--fhir-id', 'pat-a']);
  const dev = addDevice(srv.dataDir, 'monitor-7', 'pat-a');
  const tok = {};
  for (const [k, u] of [['admin', 'admin1'], ['auditor', 'audit1'], ['doc1', 'doc1'],
    ['doc2', 'doc2'], ['patient', 'pat1']]) tok[k] = await login(base, u);
  tok.device = await token(base, { grant_type: 'client_credentials', client_id: dev.id, client_secret: dev.secret });
  // doc1 cares for pat-a (the Patient was created at pat1's first login).
  const ct = await http(base, 'POST', '/fhir/CareTeam', {
    token: tok.admin,
    body: {
      resourceType: 'CareTeam', status: 'active',
      subject: { reference: 'Patient/pat-a' },
      participant: [{ member: { reference: 'Practitioner/prac-doc1' } }],
    },
  });
  if (ct.status !== 201) throw new Error(`CareTeam: ${ct.status} ${ct.text}`);
  return { srv, base, tok, dev };
}

export function vital(patient, loinc, value, unit, display = 'vital sign', when = '2026-11-20T10:00:00Z') {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: loinc, display }] },
    subject: { reference: `Patient/${patient}` },
    effectiveDateTime: when,
    valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
  };
}
