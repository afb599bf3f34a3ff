// SPDX-License-Identifier: Apache-2.0
// `medverse demo` (what `make run` starts): demo accounts printed, simulated
// patients listed, vital signs streamed over the /ws hub only after they are
// durable, the stored Observations follow the FHIR vital-signs profile, and
// Ctrl-C (SIGINT) stops it cleanly with everything flushed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { start } from './helpers.mjs';

function nextMessages(ws, n, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const got = [];
    const timer = setTimeout(() => reject(new Error(`only ${got.length}/${n} messages`)), timeoutMs);
    ws.on('message', (data) => {
      got.push(JSON.parse(data.toString()));
      if (got.length === n) { clearTimeout(timer); resolve(got); }
    });
  });
}

test('demo prints accounts, streams durable vitals and stops on SIGINT', async (t) => {
  const s = await start('demo', ['--demo-patients', '4', '--demo-interval-ms', '100']);
  t.after(() => { s.proc.kill('SIGKILL'); rmSync(s.dataDir, { recursive: true, force: true }); });
  const out = s.stdout();
  for (const role of ['clinician', 'patient']) assert.match(out, new RegExp(`${role}\\s+user \\S+\\s+password \\S+`));
  assert.match(out, /NOT a certified medical device/);

  const patients = await (await fetch(`${s.url}/api/demo/patients`)).json();
  assert.equal(patients.length, 4);
  assert.deepEqual(patients.map((p) => p.id), ['demo-p1', 'demo-p2', 'demo-p3', 'demo-p4']);

  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/ws`);
  await new Promise((r, j) => { ws.on('open', r); ws.on('error', j); });
  const msgs = nextMessages(ws, 13);
  ws.send(JSON.stringify({ op: 'subscribe', topic: 'vitals' }));
  const got = (await msgs).filter((m) => m.topic === 'vitals' && m.data);
  assert.ok(got.length >= 12, `got ${got.length} vitals messages`);
  const seen = new Set(got.map((m) => m.data.patient));
  assert.equal(seen.size, 4);
  for (const m of got) {
    const d = m.data;
    assert.ok(d.hr >= 30 && d.hr <= 200, `hr ${d.hr}`);
    assert.ok(d.spo2 >= 70 && d.spo2 <= 100);
    assert.ok(d.dbp < d.sbp);
    assert.ok(d.rr >= 6 && d.rr <= 45);
    assert.ok(d.temp >= 33 && d.temp <= 42);
  }
  ws.close();

  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  const writes = Number(metrics.match(/^mv_store_writes_total(?:\{[^}]*\})? (\d+)/m)?.[1]);
  assert.ok(writes >= 5 * got.length, `store writes ${writes}`);

  // The stored vital signs, read back through the FHIR API as the demo
  // clinician (bodies are encrypted at rest, so not from the file).
  const tok = await (await fetch(s.url + '/auth/token', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=password&username=clinician&password=demo-clinician',
  })).json();
  const search = async (code) => (await (await fetch(
    `${s.url}/fhir/Observation?patient=demo-p1&code=http://loinc.org|${code}&_count=1&_sort=-date`,
    { headers: { authorization: `Bearer ${tok.access_token}` } })).json());
  const hr = await search('8867-4');
  assert.ok(hr.total >= 1, JSON.stringify(hr));
  const body = hr.entry[0].resource;
  assert.equal(body.resourceType, 'Observation');
  assert.equal(body.code.coding[0].system, 'http://loinc.org');
  assert.equal(body.valueQuantity.code, '/min');
  assert.equal(body.valueQuantity.system, 'http://unitsofmeasure.org');
  assert.equal(body.subject.reference, 'Patient/demo-p1');
  const bp = (await search('85354-9')).entry[0].resource;
  assert.deepEqual(bp.component.map((c) => c.code.coding[0].code), ['8480-6', '8462-4']);

  const dataDir = s.dataDir;
  const t0 = Date.now();
  s.proc.kill('SIGINT');
  const { code } = await s.exited;
  assert.equal(code, 0, s.stderr());
  assert.ok(Date.now() - t0 < 5000);

  // Everything that was published is in the database, encrypted.
  const db = join(dataDir, 'medverse.db');
  const q = (sql) => spawnSync('sqlite3', [db, sql], { encoding: 'utf8' });
  const count = Number(q("SELECT count(*) FROM resources WHERE type='Observation'").stdout.trim());
  assert.ok(count >= 5 * got.length, `stored ${count} observations`);
  const plain = Number(q("SELECT count(*) FROM resources WHERE instr(body, 'resourceType') > 0").stdout.trim());
  assert.equal(plain, 0, 'no plaintext bodies');
  const users = q('SELECT username, role FROM users ORDER BY username').stdout.trim().split('\n');
  assert.deepEqual(users, ['admin|admin', 'clinician|clinician', 'epi|public-health', 'patient|patient']);
  const hash = q("SELECT pw_hash FROM users WHERE username='clinician'").stdout;
  assert.match(hash, /^\$argon2id\$/);
  rmSync(dataDir, { recursive: true, force: true });
});
