// SPDX-License-Identifier: Apache-2.0
// Bulk NDJSON backfill (POST /fhir/Observation/$ingest) against the real
// server: one Observation per line, answered {"accepted":N} only when all
// are durable (more than one transaction's worth here); a bad line refuses
// the whole request with an OperationOutcome naming the line and the FHIR
// path, and nothing of that request is stored; media type and
// authentication are enforced.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFhir, http, vital } from './fhir_fx.mjs';

let S;
before(async () => { S = await startFhir(); });
after(async () => { if (S) await S.srv.stop(); });

const iso = (ms) => new Date(ms).toISOString();
const ND = 'application/fhir+ndjson';

function lines(n, t0, value = (i) => 60 + (i % 40)) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(JSON.stringify(vital('pat-a', '8867-4', value(i), '/min', 'Heart rate', iso(t0 + i * 1000))));
  return out;
}

async function count(t0, n) {
  let url = `/fhir/Observation?patient=pat-a&code=8867-4&date=ge${iso(t0)}&date=le${iso(t0 + n * 1000)}&_count=1000`;
  let total = 0;
  while (url) {
    const r = await http(S.base, 'GET', url, { token: S.tok.doc1 });
    assert.equal(r.status, 200, r.text);
    total += (r.json.entry || []).length;
    const next = (r.json.link || []).find((l) => l.relation === 'next');
    url = next ? next.url.slice(next.url.indexOf('/fhir/')) : null;
  }
  return total;
}

test('2500 lines are accepted, durable and readable', async () => {
  const t0 = Date.UTC(2026, 9, 1, 0, 0, 0);
  const body = lines(2500, t0).join('\n') + '\n';
  const r = await http(S.base, 'POST', '/fhir/Observation/$ingest', { token: S.tok.device, body, raw: true, headers: { 'content-type': ND } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { accepted: 2500 });
  assert.equal(await count(t0, 2500), 2500);
});

test('x-ndjson, CRLF line ends and blank lines are accepted', async () => {
  const t0 = Date.UTC(2026, 9, 2, 0, 0, 0);
  const body = lines(3, t0).join('\r\n\r\n');
  const r = await http(S.base, 'POST', '/fhir/Observation/$ingest', { token: S.tok.doc1, body, raw: true, headers: { 'content-type': 'application/x-ndjson' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.accepted, 3);
});

test('a bad line refuses everything and names line and path', async () => {
  const t0 = Date.UTC(2026, 9, 3, 0, 0, 0);
  const l = lines(1500, t0);
  const bad = JSON.parse(l[1203]);
  bad.status = 'not-a-status';
  l[1203] = JSON.stringify(bad);
  let r = await http(S.base, 'POST', '/fhir/Observation/$ingest', { token: S.tok.device, body: l.join('\n'), raw: true, headers: { 'content-type': ND } });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.resourceType, 'OperationOutcome');
  assert.match(r.json.issue[0].diagnostics, /^line 1204: /);
  assert.equal(r.json.issue[0].expression[0], 'Observation.status');
  assert.equal(await count(t0, 1500), 0, 'something of a refused request was stored');
  // not JSON
  l[1203] = '{"resourceType":';
  r = await http(S.base, 'POST', '/fhir/Observation/$ingest', { token: S.tok.device, body: l.join('\n'), raw: true, headers: { 'content-type': ND } });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.issue[0].diagnostics, /^line 1204: /);
  // another patient than the device's own: forbidden, nothing stored
  l[1203] = JSON.stringify(vital('pat-other', '8867-4', 70, '/min', 'Heart rate', iso(t0)));
  r = await http(S.base, 'POST', '/fhir/Observation/$ingest', { token: S.tok.device, body: l.join('\n'), raw: true, headers: { 'content-type': ND } });
  assert.ok(r.status === 403 || r.status === 422, r.text);
  assert.match(r.json.issue[0].diagnostics, /^line 1204: /);
  assert.equal(await count(t0, 1500), 0);
  // a resource of another type
  l[1203] = JSON.stringify({ resourceType: 'Patient' });
  r = await http(S.base, 'POST', '/fhir/Observation/$ingest', { token: S.tok.device, body: l.join('\n'), raw: true, headers: { 'content-type': ND } });
  assert.equal(r.status, 422, r.text);
  assert.match(r.json.issue[0].diagnostics, /^line 1204: /);
});

test('media type and authentication are enforced', async () => {
  const body = lines(1, Date.UTC(2026, 9, 4)).join('\n');
  let r = await http(S.base, 'POST', '/fhir/Observation/$ingest', { token: S.tok.device, body, raw: true, headers: { 'content-type': 'application/fhir+json' } });
  assert.equal(r.status, 415);
  r = await http(S.base, 'POST', '/fhir/Observation/$ingest', { body, raw: true, headers: { 'content-type': ND } });
  assert.equal(r.status, 401);
  r = await http(S.base, 'POST', '/fhir/Observation/$ingest', { token: S.tok.auditor, body, raw: true, headers: { 'content-type': ND } });
  assert.equal(r.status, 403);
  r = await http(S.base, 'POST', '/fhir/Observation/$ingest', { token: S.tok.device, body: '\n\n', raw: true, headers: { 'content-type': ND } });
  assert.equal(r.status, 400);
});
