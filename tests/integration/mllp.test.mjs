// SPDX-License-Identifier: Apache-2.0
// HL7 v2 over MLLP against the real server, with @medplum/hl7's Hl7Client
// as the peer: ORU^R01 is acknowledged AA only after the Observations are
// durable and readable through FHIR search; bad content gets AE with an ERR
// naming the segment and field; a wrong version or message type gets AR;
// garbage and oversize frames do not hurt the server; a repeated control id
// is acknowledged without being stored twice; and after SIGKILL every
// message that got AA is there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { Hl7Message } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import { BIN } from './helpers.mjs';
import { startFhir, http } from './fhir_fx.mjs';

// A free loopback port (the OS picks; closed again before the server binds).
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const pad = (n, w) => String(n).padStart(w, '0');
// HL7 TS for 2026-11-25 10:00:00 UTC plus s seconds.
function ts(s = 0) {
  const d = new Date(Date.UTC(2026, 10, 25, 10, 0, 0) + s * 1000);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}` +
    `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}+0000`;
}
function iso(s = 0) {
  return new Date(Date.UTC(2026, 10, 25, 10, 0, 0) + s * 1000).toISOString();
}

function oru({ id, patient = 'pat-a', version = '2.6', type = 'ORU^R01^ORU_R01', t = 0, spo2 = 97, hr = 72, obx = null }) {
  const segs = [
    `MSH|^~\\&|MONITOR^ACDE48234567ABCD^EUI-64|ICU|MEDVERSE|HOSP|${ts(t)}||${type}|${id}|P|${version}|||NE|AL`,
    `PID|||${patient}^^^HOSP^PI`,
    `OBR|1|||182777000^monitoring of patient^SNOMED-CT|||${ts(t)}`,
    'OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X',
    obx ?? `OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.1.1|${spo2}|262688^MDC_DIM_PERCENT^MDC|||||R|||${ts(t)}`,
    `OBX|3|NM|147842^MDC_ECG_HEART_RATE^MDC|1.0.1.2|${hr}|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R`,
  ];
  return Hl7Message.parse(segs.join('\r'));
}

const msa = (ack) => ack.getSegment('MSA')?.getField(1)?.toString();
const errOf = (ack) => {
  const e = ack.getSegment('ERR');
  return e ? { loc: e.getField(2).toString(), code: e.getField(3).getComponent(1), sev: e.getField(4).toString() } : null;
};

async function observations(base, token, patient) {
  const out = [];
  let url = `/fhir/Observation?subject=Patient/${patient}&_count=1000`;
  while (url) {
    const r = await http(base, 'GET', url, { token });
    assert.equal(r.status, 200, r.text);
    for (const e of r.json.entry ?? []) out.push(e.resource);
    const next = (r.json.link ?? []).find((l) => l.relation === 'next');
    url = next ? next.url.replace(base, '') : null;
  }
  return out;
}

async function startWithMllp() {
  const port = await freePort();
  const S = await startFhir(['--mllp-port', String(port)]);
  return { ...S, mllpPort: port };
}

test('ORU^R01 over MLLP: AA after commit, AE/AR with ERR, duplicates, bad frames', async (t) => {
  const S = await startWithMllp();
  const client = new Hl7Client({ host: '127.0.0.1', port: S.mllpPort });
  try {
    await t.test('AA after durable commit; the Observations are readable', async () => {
      const ack = await client.sendAndWait(oru({ id: 'M-1', t: 1, spo2: 96, hr: 61 }));
      assert.equal(msa(ack), 'AA');
      assert.equal(ack.getSegment('MSA').getField(2).toString(), 'M-1');
      assert.equal(ack.getSegment('MSH').getField(9).toString(), 'ACK^R01^ACK');
      assert.equal(ack.getSegment('MSH').getField(3).toString(), 'MEDVERSE');
      assert.equal(ack.getSegment('MSH').getField(5).toString(), 'MONITOR');
      assert.equal(ack.getSegment('MSH').getField(12).toString(), '2.6');
      const obs = await observations(S.base, S.tok.admin, 'pat-a');
      const mine = obs.filter((o) => o.effectiveDateTime === iso(1));
      assert.equal(mine.length, 2);
      const spo2 = mine.find((o) => o.code.coding.some((c) => c.code === '59408-5'));
      const hr = mine.find((o) => o.code.coding.some((c) => c.code === '8867-4'));
      assert.equal(spo2.valueQuantity.value, 96);
      assert.equal(spo2.valueQuantity.code, '%');
      assert.equal(hr.valueQuantity.value, 61);
      assert.equal(hr.valueQuantity.code, '/min');
      assert.ok(hr.code.coding.some((c) => c.system === 'urn:iso:std:iso:11073:10101'));
    });

    await t.test('a repeated control id is acknowledged, not stored twice', async () => {
      const before = (await observations(S.base, S.tok.admin, 'pat-a')).length;
      const ack = await client.sendAndWait(oru({ id: 'M-1', t: 1, spo2: 96, hr: 61 }));
      assert.equal(msa(ack), 'AA');
      const after = (await observations(S.base, S.tok.admin, 'pat-a')).length;
      assert.equal(after, before);
    });

    await t.test('AE with ERR for a bad OBX; nothing stored', async () => {
      const before = (await observations(S.base, S.tok.admin, 'pat-a')).length;
      const cases = [
        [`OBX|2|NM|999999^MDC_NOT_A_CODE^MDC||97|262688^MDC_DIM_PERCENT^MDC|||||F`, 'OBX^2^3^1^1', '103'],
        [`OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||140|262688^MDC_DIM_PERCENT^MDC|||||F`, 'OBX^2^5^1^1', '102'],
        [`OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||abc|262688^MDC_DIM_PERCENT^MDC|||||F`, 'OBX^2^5^1^1', '102'],
        [`OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||97|262688^MDC_DIM_PERCENT^MDC|||||F|||2026`, 'OBX^2^14^1^1', '102'],
        [`OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||97|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||F`, 'OBX^2^6^1^1', '103'],
      ];
      let i = 0;
      for (const [obx, loc, code] of cases) {
        const ack = await client.sendAndWait(oru({ id: `E-${i++}`, t: 100 + i, obx }));
        assert.equal(msa(ack), 'AE', obx);
        assert.deepEqual(errOf(ack), { loc, code, sev: 'E' }, obx);
      }
      const unknown = await client.sendAndWait(oru({ id: 'E-pat', patient: 'nobody-here', t: 200 }));
      assert.equal(msa(unknown), 'AE');
      assert.deepEqual(errOf(unknown), { loc: 'PID^1^3^1^1', code: '204', sev: 'E' });
      const after = (await observations(S.base, S.tok.admin, 'pat-a')).length;
      assert.equal(after, before);
    });

    await t.test('concurrent messages of one sender: the bad ones refused alone', async () => {
      // Messages waiting together are stored as one batch; a refused one
      // (unknown patient) must not take the others down with it.
      const clients = Array.from({ length: 6 }, () => new Hl7Client({ host: '127.0.0.1', port: S.mllpPort }));
      try {
        const runs = clients.map(async (c, k) => {
          const res = [];
          for (let i = 0; i < 20; i++) {
            const bad = (k + i) % 5 === 0;
            const t = 1000 + k * 100 + i;
            const ack = await c.sendAndWait(oru({ id: `C-${k}-${i}`, t, patient: bad ? 'ghost-1' : 'pat-a' }));
            res.push({ t, bad, code: msa(ack), err: errOf(ack) });
          }
          return res;
        });
        const all = (await Promise.all(runs)).flat();
        const seen = new Set((await observations(S.base, S.tok.admin, 'pat-a')).map((o) => o.effectiveDateTime));
        for (const r of all) {
          if (r.bad) {
            assert.equal(r.code, 'AE');
            assert.equal(r.err.code, '204');
          } else {
            assert.equal(r.code, 'AA');
            assert.ok(seen.has(iso(r.t)), `AA'd message at ${iso(r.t)} not stored`);
          }
        }
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    });

    await t.test('AR for a wrong version or message type', async () => {
      const v = await client.sendAndWait(oru({ id: 'R-1', version: '2.9' }));
      assert.equal(msa(v), 'AR');
      assert.deepEqual(errOf(v), { loc: 'MSH^1^12^1^1', code: '203', sev: 'E' });
      const ty = await client.sendAndWait(oru({ id: 'R-2', type: 'ADT^A01' }));
      assert.equal(msa(ty), 'AR');
      assert.equal(errOf(ty).code, '200');
    });

    await t.test('garbage and oversize frames; the server stays healthy', async () => {
      // Garbage before a frame is skipped; the frame is answered.
      const raw = await new Promise((resolve, reject) => {
        const s = net.connect(S.mllpPort, '127.0.0.1');
        let buf = Buffer.alloc(0);
        s.on('data', (d) => {
          buf = Buffer.concat([buf, d]);
          if (buf.includes(Buffer.from([0x1c, 0x0d]))) { s.destroy(); resolve(buf.toString('latin1')); }
        });
        s.on('error', reject);
        s.write(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n\r\n\x1c\r'),
          Buffer.from([0x0b]), Buffer.from(oru({ id: 'G-1', t: 300 }).toString()), Buffer.from([0x1c, 0x0d])]));
      });
      assert.match(raw, /\rMSA\|AA\|G-1/);
      // An oversize frame (> 1 MiB) closes that connection without answer.
      const closed = await new Promise((resolve) => {
        const s = net.connect(S.mllpPort, '127.0.0.1');
        let got = 0;
        s.on('data', (d) => { got += d.length; });
        s.on('error', () => {});
        s.on('close', () => resolve(got));
        s.write(Buffer.concat([Buffer.from([0x0b]), Buffer.alloc((1 << 20) + 10, 0x41)]));
      });
      assert.equal(closed, 0);
      // A broken MSH still gets an answer (AR).
      const broken = await new Promise((resolve, reject) => {
        const s = net.connect(S.mllpPort, '127.0.0.1');
        let buf = '';
        s.on('data', (d) => { buf += d.toString('latin1'); if (buf.endsWith('\x1c\r')) { s.destroy(); resolve(buf); } });
        s.on('error', reject);
        s.write('\x0bMSH|^^\\&|A|B\rPID|||x\x1c\r');
      });
      assert.match(broken, /\rMSA\|AR\|/);
      assert.match(broken, /\rERR\|\|MSH\^1\^2\^1\|102\^/);
      // Still serving: a new client gets AA and /healthz is fine.
      const c2 = new Hl7Client({ host: '127.0.0.1', port: S.mllpPort });
      try {
        assert.equal(msa(await c2.sendAndWait(oru({ id: 'H-1', t: 301 }))), 'AA');
      } finally {
        await c2.close();
      }
      const h = await http(S.base, 'GET', '/healthz');
      assert.equal(h.status, 200);
      const m = await http(S.base, 'GET', '/metrics');
      assert.equal(m.status, 200);
      assert.match(m.text, /^mv_mllp_acks_total\{code="AA"\} [1-9]/m);
      assert.match(m.text, /^mv_mllp_oversize_total [1-9]/m);
    });
  } finally {
    await client.close();
    const r = await S.srv.stop();
    assert.equal(r.code, 0, S.srv.stderr());
    assert.doesNotMatch(S.srv.stderr(), /Doe|nobody-here/); // no patient data in logs
  }
});

function restart(dataDir, mllpPort) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir,
      '--mllp-port', String(mllpPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
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

test('every message acknowledged AA survives SIGKILL', async () => {
  const S = await startWithMllp();
  const acked = new Set(); // OBX-14 seconds of each AA'd message
  let stop = false;
  const worker = async (w) => {
    const c = new Hl7Client({ host: '127.0.0.1', port: S.mllpPort });
    try {
      for (let i = 0; !stop; i++) {
        const t = 10000 + w * 100000 + i;
        try {
          const ack = await c.sendAndWait(oru({ id: `K-${w}-${i}`, t }), { timeoutMs: 5000 });
          if (msa(ack) === 'AA') acked.add(t);
        } catch {
          return; // the server is gone
        }
      }
    } finally {
      c.close().catch(() => {});
    }
  };
  const workers = [0, 1, 2, 3].map(worker);
  await new Promise((r) => setTimeout(r, 1500));
  S.srv.proc.kill('SIGKILL');
  stop = true;
  await Promise.all(workers);
  await S.srv.exited;
  assert.ok(acked.size > 10, `only ${acked.size} messages acknowledged`);

  const R = await restart(S.srv.dataDir, await freePort());
  try {
    const obs = await observations(R.url, S.tok.admin, 'pat-a');
    const seen = new Map();
    for (const o of obs) seen.set(o.effectiveDateTime, (seen.get(o.effectiveDateTime) ?? 0) + 1);
    for (const t of acked) assert.equal(seen.get(iso(t)), 2, `message at ${iso(t)} lost after AA`);
  } finally {
    R.proc.kill('SIGTERM');
    await new Promise((r) => R.proc.on('exit', r));
    rmSync(S.srv.dataDir, { recursive: true, force: true });
  }
});
