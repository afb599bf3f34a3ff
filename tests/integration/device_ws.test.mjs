// SPDX-License-Identifier: Apache-2.0
// The WebSocket device protocol (/ws/device, docs/API.md "Device
// ingestion") against the real server with the `ws` npm client: refused
// tokens, vitals acknowledged and then readable through FHIR search, a
// pipelining device, errors that name the seq and the path while the
// connection stays usable, a binary ECG chunk stored as SampledData with a
// derived heart rate, resume after a dropped connection with nothing lost
// or stored twice, and durability: every acknowledged seq survives SIGKILL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { BIN } from './helpers.mjs';
import { startFhir, http, addDevice, token } from './fhir_fx.mjs';

let S;
before(async () => { S = await startFhir(); });
after(async () => { if (S) await S.srv.stop(); });

const wsUrl = (base) => base.replace(/^http/, 'ws') + '/ws/device';

// A device client: open, collect every message, wait for predicates.
function connect(base, { tok, query = '' } = {}) {
  return new Promise((resolve, reject) => {
    const headers = tok ? { authorization: `Bearer ${tok}` } : {};
    const ws = new WebSocket(wsUrl(base) + query, { headers });
    const msgs = [];
    const waiters = [];
    ws.on('message', (d, isBinary) => {
      assert.equal(isBinary, false);
      const m = JSON.parse(d.toString());
      msgs.push(m);
      for (const w of [...waiters]) if (w.pred(m)) { w.done(m); }
    });
    ws.once('open', () => resolve({
      ws, msgs,
      send: (o) => ws.send(typeof o === 'string' || Buffer.isBuffer(o) ? o : JSON.stringify(o)),
      wait(pred, ms = 10000) {
        const hit = msgs.find(pred);
        if (hit) return Promise.resolve(hit);
        return new Promise((res, rej) => {
          const w = {
            pred,
            done: (m) => { clearTimeout(w.t); waiters.splice(waiters.indexOf(w), 1); res(m); },
          };
          w.t = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); rej(new Error(`timeout; got ${JSON.stringify(msgs.slice(-5))}`)); }, ms);
          waiters.push(w);
        });
      },
      close() { ws.close(); },
    }));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

// hello until welcome: a stream whose previous connection still has a
// batch in the store answers "busy" for a moment.
async function hello(c, device) {
  for (let i = 0; i < 50; i++) {
    const from = c.msgs.length;
    c.send({ type: 'hello', device });
    const m = await c.wait((x) => c.msgs.indexOf(x) >= from && (x.type === 'welcome' || (x.type === 'error' && x.seq === null)));
    if (m.type === 'welcome') return m;
    assert.equal(m.code, 'busy', JSON.stringify(m));
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('hello: still busy');
}

const ackAtLeast = (seq) => (m) => m.type === 'ack' && m.seq >= seq;
const errorFor = (seq) => (m) => m.type === 'error' && m.seq === seq;

// A fresh device of pat-a (its own stream) and its token.
let devN = 0;
async function device() {
  const d = addDevice(S.srv.dataDir, `wsdev-${++devN}`, 'pat-a');
  return token(S.base, { grant_type: 'client_credentials', client_id: d.id, client_secret: d.secret });
}

// Every Observation of a search, following next links.
async function searchAll(base, tok, query) {
  let url = `/fhir/Observation?${query}&_count=500`;
  const out = [];
  while (url) {
    const r = await http(base, 'GET', url, { token: tok });
    assert.equal(r.status, 200, r.text);
    for (const e of r.json.entry || []) out.push(e.resource);
    const next = (r.json.link || []).find((l) => l.relation === 'next');
    url = next ? next.url.slice(next.url.indexOf('/fhir/')) : null;
  }
  return out;
}

const iso = (ms) => new Date(ms).toISOString();

test('no token, a bad token or a patient token is refused before the upgrade', async () => {
  await assert.rejects(connect(S.base), (e) => e.status === 401);
  await assert.rejects(connect(S.base, { tok: 'mv1.nope.nope' }), (e) => e.status === 401);
  await assert.rejects(connect(S.base, { query: '?access_token=garbage' }), (e) => e.status === 401);
  await assert.rejects(connect(S.base, { tok: S.tok.patient }), (e) => e.status === 403);
  // the query form works for clients that cannot set headers
  const c = await connect(S.base, { query: `?access_token=${encodeURIComponent(S.tok.device)}` });
  c.close();
});

test('vitals are acknowledged after commit and readable through FHIR', async () => {
  const tok = await device();
  const c = await connect(S.base, { tok });
  c.send({ type: 'hello', device: 'bed-1' });
  const w = await c.wait((m) => m.type === 'welcome');
  assert.match(w.stream, /^wsdev-\d+\/bed-1$/);
  assert.equal(w.last_seq, 0);
  assert.ok(Date.parse(w.server_time) > 0);
  const t = Date.UTC(2026, 10, 21, 8, 0, 0);
  c.send({
    type: 'vitals', seq: 1, t: iso(t), values: [
      { code: '8867-4', value: 72, unit: '/min' },
      { code: 'MDC_PULS_OXIM_SAT_O2', value: 97, unit: '%' },
      { code: '85354-9', sys: 120, dia: 80, unit: 'mm[Hg]' },
      { code: '8310-5', value: 98.6, unit: '[degF]' },
      { code: '8867-4', t: iso(t + 1000), period_ms: 1000, data: [72, 73, 73, 74], unit: '/min' },
    ],
  });
  const ack = await c.wait(ackAtLeast(1));
  assert.equal(ack.seq, 1);
  c.close();
  // read back as a clinician caring for pat-a
  const obs = await searchAll(S.base, S.tok.doc1, `patient=pat-a&date=ge${iso(t)}&date=le${iso(t + 2000)}`);
  const codes = obs.map((o) => o.code.coding.find((x) => x.system === 'http://loinc.org')?.code);
  for (const code of ['8867-4', '59408-5', '85354-9', '8310-5'])
    assert.ok(codes.includes(code), `${code} missing in ${codes}`);
  const temp = obs.find((o) => o.code.coding.some((x) => x.code === '8310-5'));
  assert.equal(temp.valueQuantity.code, 'Cel');
  assert.ok(Math.abs(temp.valueQuantity.value - 37) < 0.01, JSON.stringify(temp.valueQuantity));
  const bp = obs.find((o) => o.code.coding.some((x) => x.code === '85354-9'));
  assert.equal(bp.component.length, 2);
  assert.ok(obs.some((o) => o.valueSampledData), 'the series is a SampledData');
});

test('durable vitals are published live on the /ws hub', async () => {
  const sub = new WebSocket(S.base.replace(/^http/, 'ws') + '/ws');
  await new Promise((r, j) => { sub.once('open', r); sub.once('error', j); });
  const got = [];
  sub.on('message', (d) => got.push(JSON.parse(d.toString())));
  sub.send(JSON.stringify({ op: 'subscribe', topic: 'patient/pat-a/vitals' }));
  for (let i = 0; i < 50 && !got.some((m) => m.op === 'ok'); i++) await new Promise((r) => setTimeout(r, 20));
  const tok = await device();
  const c = await connect(S.base, { tok });
  await hello(c, 'live');
  c.send({ type: 'vitals', seq: 1, t: iso(Date.UTC(2026, 10, 21, 8, 30)), values: [{ code: '59408-5', value: 93, unit: '%' }] });
  await c.wait(ackAtLeast(1));
  for (let i = 0; i < 100 && !got.some((m) => m.data); i++) await new Promise((r) => setTimeout(r, 20));
  const pub = got.find((m) => m.topic === 'patient/pat-a/vitals' && m.data);
  assert.ok(pub, JSON.stringify(got));
  assert.equal(pub.data.spo2, 93);
  c.close();
  sub.close();
});

test('a pipelining device gets cumulative acks in order; duplicates are acked, not stored', async () => {
  const tok = await device();
  const c = await connect(S.base, { tok });
  c.send({ type: 'hello', device: 'pipe' });
  await c.wait((m) => m.type === 'welcome');
  const t = Date.UTC(2026, 10, 21, 9, 0, 0);
  const N = 200;
  for (let s = 1; s <= N; s++)
    c.send({ type: 'vitals', seq: s, t: iso(t + s * 1000), values: [{ code: '8867-4', value: 60 + (s % 40), unit: '/min' }] });
  await c.wait(ackAtLeast(N), 30000);
  const acks = c.msgs.filter((m) => m.type === 'ack').map((m) => m.seq);
  for (let i = 1; i < acks.length; i++) assert.ok(acks[i] >= acks[i - 1], `acks out of order: ${acks}`);
  assert.equal(c.msgs.filter((m) => m.type === 'error').length, 0, JSON.stringify(c.msgs.filter((m) => m.type === 'error')));
  // resend a few: acknowledged again, not stored twice
  const before = c.msgs.length;
  c.send({ type: 'vitals', seq: 5, t: iso(t + 5000), values: [{ code: '8867-4', value: 150, unit: '/min' }] });
  const again = await c.wait((m) => m.type === 'ack' && c.msgs.indexOf(m) >= before);
  assert.ok(again.seq >= 5);
  c.close();
  const obs = await searchAll(S.base, S.tok.doc1, `patient=pat-a&code=8867-4&date=ge${iso(t)}&date=le${iso(t + (N + 1) * 1000)}`);
  assert.equal(obs.length, N);
  assert.ok(!obs.some((o) => o.valueQuantity.value === 150), 'the duplicate was stored');
});

test('bad messages get an error with seq and path; the connection stays usable', async () => {
  const tok = await device();
  const c = await connect(S.base, { tok });
  c.send({ type: 'hello', device: 'errs' });
  await c.wait((m) => m.type === 'welcome');
  const t = Date.UTC(2026, 10, 21, 10, 0, 0);
  const v = (seq, values) => ({ type: 'vitals', seq, t: iso(t + seq * 1000), values });
  c.send(v(1, [{ code: '8867-4', value: 70, unit: '/min' }]));
  await c.wait(ackAtLeast(1));
  // wrong seq: skips ahead
  c.send(v(5, [{ code: '8867-4', value: 70, unit: '/min' }]));
  let e = await c.wait(errorFor(5));
  assert.equal(e.code, 'sequence');
  assert.equal(e.expected, 2);
  // unknown code
  c.send(v(2, [{ code: '8867-4', value: 70, unit: '/min' }, { code: '99999-9', value: 1, unit: '%' }]));
  e = await c.wait(errorFor(2));
  assert.equal(e.code, 'invalid');
  assert.equal(e.path, 'values[1].code');
  // impossible value
  c.send(v(3, [{ code: '8867-4', value: 5000, unit: '/min' }]));
  e = await c.wait(errorFor(3));
  assert.equal(e.code, 'invalid');
  assert.equal(e.path, 'values[0].value');
  // truncated binary frame
  const f = ecgFrame(4, Date.now() * 1000, new Int16Array(50));
  c.send(f.subarray(0, f.length - 1));
  e = await c.wait(errorFor(4));
  assert.equal(e.code, 'invalid');
  assert.equal(e.path, 'frame');
  // garbage without a seq
  c.send('{"type":');
  e = await c.wait((m) => m.type === 'error' && m.seq === null);
  assert.equal(e.code, 'invalid');
  // still usable
  c.send(v(5, [{ code: '8867-4', value: 71, unit: '/min' }]));
  const ack = await c.wait(ackAtLeast(5));
  assert.equal(ack.seq, 5);
  c.close();
  // nothing of the refused messages was stored
  const obs = await searchAll(S.base, S.tok.doc1, `patient=pat-a&code=8867-4&date=ge${iso(t)}&date=le${iso(t + 10000)}`);
  assert.deepEqual(obs.map((o) => o.valueQuantity.value).sort(), [70, 71]);
  // counted for /metrics
  const text = await (await fetch(`${S.base}/metrics`)).text();
  const count = (r) => Number((text.match(new RegExp(`^mv_device_ws_messages_total\\{result="${r}"\\} (\\d+)`, 'm')) || [])[1]);
  assert.ok(count('sequence') >= 1 && count('invalid') >= 4 && count('stored') >= 2, text);
});

test('a device writes only for its own patient: forbidden, nothing stored', async () => {
  const put = await http(S.base, 'PUT', '/fhir/Patient/pat-b', { token: S.tok.admin, body: { resourceType: 'Patient', id: 'pat-b', active: true } });
  assert.ok(put.status === 201 || put.status === 200, put.text);
  const tok = await device();
  const c = await connect(S.base, { tok });
  await hello(c, 'other');
  const t = Date.UTC(2026, 10, 21, 13, 0, 0);
  c.send({ type: 'vitals', seq: 1, patient: 'pat-b', t: iso(t), values: [{ code: '8867-4', value: 70, unit: '/min' }] });
  const e = await c.wait(errorFor(1));
  assert.equal(e.code, 'forbidden');
  c.send({ type: 'vitals', seq: 2, t: iso(t), values: [{ code: '8867-4', value: 70, unit: '/min' }] });
  assert.equal((await c.wait(ackAtLeast(2))).seq, 2);
  c.close();
  const obs = await searchAll(S.base, S.tok.admin, `patient=pat-b&code=8867-4`);
  assert.equal(obs.length, 0);
});

// An MVW1 frame: lead II at 250 Hz, gain 200 adu/mV, baseline 0.
function ecgFrame(seq, t0us, samples, { fs = 250000, lead = 0, gain = 200, patient = '' } = {}) {
  const p = Buffer.from(patient, 'ascii');
  const b = Buffer.alloc(37 + p.length + 2 * samples.length);
  b.write('MVW1', 0, 'ascii');
  b.writeBigInt64LE(BigInt(seq), 4);
  b.writeBigInt64LE(BigInt(Math.round(t0us)), 12);
  b.writeUInt32LE(fs, 20);
  b.writeUInt16LE(lead, 24);
  b.writeUInt16LE(samples.length, 26);
  b.writeFloatLE(gain, 28);
  b.writeInt16LE(0, 32);
  b.writeUInt16LE(0, 34);
  b.writeUInt8(p.length, 36);
  p.copy(b, 37);
  for (let i = 0; i < samples.length; i++) b.writeInt16LE(samples[i], 37 + p.length + 2 * i);
  return b;
}

// A synthetic ECG at 250 Hz, 75 /min: narrow QRS-like spikes on a small T
// wave, in ADC units (200 per mV).
function syntheticEcg(seconds, bpm = 75, fs = 250) {
  const n = seconds * fs, x = new Int16Array(n), rr = (60 / bpm) * fs;
  for (let i = 0; i < n; i++) {
    const k = i % rr;
    const qrs = 1.2 * Math.exp(-(((k - 20) / 2.5) ** 2)) - 0.15 * Math.exp(-(((k - 24) / 2) ** 2));
    const tw = 0.25 * Math.exp(-(((k - 70) / 10) ** 2));
    x[i] = Math.round(200 * (qrs + tw));
  }
  return x;
}

test('a binary ECG chunk becomes a SampledData Observation and a derived heart rate', async () => {
  const tok = await device();
  const c = await connect(S.base, { tok });
  c.send({ type: 'hello', device: 'ecg' });
  await c.wait((m) => m.type === 'welcome');
  const t0 = Date.UTC(2026, 10, 21, 11, 0, 0) * 1000;
  const x = syntheticEcg(12);
  for (let s = 1; s <= 12; s++)
    c.send(ecgFrame(s, t0 + (s - 1) * 1e6, x.subarray((s - 1) * 250, s * 250)));
  await c.wait(ackAtLeast(12), 20000);
  const hr = c.msgs.filter((m) => m.type === 'hr');
  assert.ok(hr.length >= 5, `hr notices: ${JSON.stringify(c.msgs.slice(-4))}`);
  const last = hr[hr.length - 1];
  assert.ok(Math.abs(last.bpm - 75) < 3, `bpm ${last.bpm}`);
  c.close();
  const obs = await searchAll(S.base, S.tok.doc1, `patient=pat-a&date=ge${iso(t0 / 1000)}&date=le${iso(t0 / 1000 + 13000)}`);
  const sd = obs.filter((o) => o.valueSampledData);
  assert.equal(sd.length, 12);
  const d = sd[0].valueSampledData;
  assert.equal(d.dimensions, 1);
  assert.ok(Math.abs(Number(d.period) - 4) < 1e-9, `period ${d.period}`);
  assert.ok(Math.abs(Number(d.factor) - 0.005) < 1e-9, `factor ${d.factor}`);
  assert.equal(d.data.trim().split(/\s+/).length, 250);
  const derived = obs.filter((o) => o.valueQuantity && o.code.coding.some((x) => x.code === '8867-4'));
  assert.ok(derived.length >= 5, `derived HR observations: ${derived.length}`);
  for (const o of derived) assert.ok(Math.abs(o.valueQuantity.value - 75) < 5, `HR ${o.valueQuantity.value}`);
});

test('resume after a dropped connection: nothing lost, nothing stored twice', async () => {
  const tok = await device();
  const t = Date.UTC(2026, 10, 21, 12, 0, 0);
  const N = 300;
  const msg = (s) => ({ type: 'vitals', seq: s, t: iso(t + s * 1000), values: [{ code: '8867-4', value: 50 + (s % 50), unit: '/min' }] });
  let c = await connect(S.base, { tok });
  c.send({ type: 'hello', device: 'resume' });
  await c.wait((m) => m.type === 'welcome');
  for (let s = 1; s <= N; s++) c.send(msg(s));
  await c.wait(ackAtLeast(20), 20000);
  c.ws.terminate(); // mid-stream, no close frame
  await new Promise((r) => setTimeout(r, 200));
  c = await connect(S.base, { tok });
  const w = await hello(c, 'resume');
  assert.ok(w.last_seq >= 20 && w.last_seq <= N, `last_seq ${w.last_seq}`);
  for (let s = w.last_seq + 1; s <= N; s++) c.send(msg(s));
  if (w.last_seq < N) await c.wait(ackAtLeast(N), 30000);
  // a device that does not trust the welcome and resends everything
  for (let s = 1; s <= 10; s++) c.send(msg(s));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(c.msgs.filter((m) => m.type === 'error').length, 0, JSON.stringify(c.msgs.filter((m) => m.type === 'error')));
  c.close();
  const obs = await searchAll(S.base, S.tok.doc1, `patient=pat-a&code=8867-4&date=ge${iso(t)}&date=le${iso(t + (N + 1) * 1000)}`);
  const times = obs.map((o) => Date.parse(o.effectiveDateTime)).sort((a, b) => a - b);
  assert.equal(times.length, N, `stored ${times.length} of ${N}`);
  assert.equal(new Set(times).size, N, 'a message was stored twice');
});

test('an acknowledgement means committed: acked seqs survive SIGKILL', async () => {
  const F = await startFhir();
  const d = addDevice(F.srv.dataDir, 'killme', 'pat-a');
  const tok = await token(F.base, { grant_type: 'client_credentials', client_id: d.id, client_secret: d.secret });
  const c = await connect(F.base, { tok });
  c.send({ type: 'hello', device: 'k' });
  await c.wait((m) => m.type === 'welcome');
  const t = Date.UTC(2026, 10, 22, 0, 0, 0);
  let acked = 0;
  c.ws.on('message', (b) => { const m = JSON.parse(b.toString()); if (m.type === 'ack') acked = Math.max(acked, m.seq); });
  let s = 0;
  const pump = setInterval(() => {
    for (let k = 0; k < 50 && s - acked < 60; k++) {
      s++;
      c.send({ type: 'vitals', seq: s, t: iso(t + s * 1000), values: [{ code: '8867-4', value: 60, unit: '/min' }] });
    }
  }, 5);
  await new Promise((r) => setTimeout(r, 1500));
  clearInterval(pump);
  F.srv.proc.kill('SIGKILL');
  await F.srv.exited;
  const ackedAtKill = acked;
  assert.ok(ackedAtKill > 20, `only ${ackedAtKill} acked`);
  const proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', F.srv.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      proc.stdout.on('data', (b) => { out += b; const m = out.match(/^listening on (http:\/\/\S+)$/m); if (m) resolve(m[1]); });
      proc.on('exit', (code) => reject(new Error(`restart exited ${code}`)));
    });
    const tok2 = await token(url, { grant_type: 'client_credentials', client_id: d.id, client_secret: d.secret });
    const c2 = await connect(url, { tok: tok2 });
    const w = await hello(c2, 'k');
    assert.ok(w.last_seq >= ackedAtKill, `welcome ${w.last_seq} < acked ${ackedAtKill}`);
    c2.close();
    const doc = await token(url, { grant_type: 'password', username: 'doc1', password: 'correct horse battery staple' });
    const obs = await searchAll(url, doc, `patient=pat-a&code=8867-4&date=ge${iso(t)}&date=le${iso(t + (s + 1) * 1000)}`);
    const seqs = new Set(obs.map((o) => (Date.parse(o.effectiveDateTime) - t) / 1000));
    for (let k = 1; k <= ackedAtKill; k++) assert.ok(seqs.has(k), `acked seq ${k} lost`);
    assert.equal(seqs.size, obs.length, 'a seq was stored twice');
    assert.equal(obs.length, w.last_seq, 'the cursor and the data disagree');
    console.log(`# ${ackedAtKill} acked at SIGKILL, ${obs.length} stored`);
  } finally {
    proc.kill('SIGKILL');
  }
});
