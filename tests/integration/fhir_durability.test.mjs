// SPDX-License-Identifier: Apache-2.0
// An acknowledgement means the data is durable: clients create
// Observations as fast as they can, the server is killed with SIGKILL in
// the middle, and after a restart on the same data directory every create
// that got a 201 is there, readable, with the version the 201 named; and
// every transaction is all or nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { BIN } from './helpers.mjs';
import { startFhir, http, vital, login } from './fhir_fx.mjs';

function restart(dataDir) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^listening on (http:\/\/\S+)$/m);
      if (m) resolve({ proc, url: m[1] });
    });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code) => reject(new Error(`restart exited ${code}: ${err}`)));
  });
}

test('every acknowledged create survives SIGKILL', async () => {
  const S = await startFhir();
  const acked = []; // [id, version]
  const txAcked = []; // [patientId, obsId]
  let stop = false;
  const worker = async (w) => {
    for (let i = 0; !stop; i++) {
      try {
        if (i % 5 === 4) {
          const tx = {
            resourceType: 'Bundle', type: 'transaction',
            entry: [
              { fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(w).padStart(4, '0')}${String(i).padStart(8, '0')}`, resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
              { resource: vital('x', '8867-4', 60, '/min'), request: { method: 'POST', url: 'Observation' } },
            ],
          };
          tx.entry[1].resource.subject.reference = tx.entry[0].fullUrl;
          const r = await http(S.base, 'POST', '/fhir', { token: S.tok.doc1, body: tx });
          if (r.status === 200)
            txAcked.push(r.json.entry.map((e) => e.response.location.split('/')[1]));
        } else {
          const r = await http(S.base, 'POST', '/fhir/Observation', { token: S.tok.doc1, body: vital('pat-a', '8867-4', 60 + (i % 40), '/min') });
          if (r.status === 201) acked.push([r.json.id, r.json.meta.versionId]);
        }
      } catch {
        return; // the server went away
      }
    }
  };
  const workers = [0, 1, 2, 3, 4, 5, 6, 7].map(worker);
  await new Promise((res) => setTimeout(res, 1500));
  S.srv.proc.kill('SIGKILL');
  stop = true;
  await Promise.all(workers);
  await S.srv.exited;
  assert.ok(acked.length > 20, `only ${acked.length} creates were acknowledged`);
  console.log(`# acknowledged ${acked.length} creates and ${txAcked.length} transactions before SIGKILL`);

  const r = await restart(S.srv.dataDir);
  try {
    const tok = await login(r.url, 'doc1');
    for (const [id, ver] of acked) {
      const g = await http(r.url, 'GET', `/fhir/Observation/${id}`, { token: tok });
      assert.equal(g.status, 200, `acknowledged Observation/${id} lost: ${g.text}`);
      assert.equal(g.json.meta.versionId, ver);
    }
    for (const [pid, oid] of txAcked) {
      assert.equal((await http(r.url, 'GET', `/fhir/Patient/${pid}`, { token: tok })).status, 200);
      assert.equal((await http(r.url, 'GET', `/fhir/Observation/${oid}`, { token: tok })).status, 200);
    }
    // All or nothing: every Patient a transaction made has its Observation.
    let url = '/fhir/Patient?_count=200';
    let checked = 0;
    while (url) {
      const page = await http(r.url, 'GET', url.replace(r.url, ''), { token: tok });
      assert.equal(page.status, 200, page.text);
      for (const e of page.json.entry || []) {
        const id = e.resource.id;
        if (id === 'pat-a') continue;
        const o = await http(r.url, 'GET', `/fhir/Observation?patient=${id}&_count=0`, { token: tok });
        assert.equal(o.json.total, 1, `Patient/${id} without its transaction's Observation`);
        checked++;
      }
      url = (page.json.link || []).find((l) => l.relation === 'next')?.url;
    }
    assert.ok(checked >= txAcked.length);
  } finally {
    r.proc.kill('SIGTERM');
    await new Promise((res) => r.proc.once('exit', res));
    rmSync(S.srv.dataDir, { recursive: true, force: true });
  }
});
