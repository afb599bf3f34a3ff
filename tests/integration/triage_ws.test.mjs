// SPDX-License-Identifier: Apache-2.0
// /ws/triage (docs/TRIAGE.md "WebSocket"): triage sessions over one
// WebSocket for the chat page, with the `ws` npm client against the real
// server and a model trained by `medverse triage train` on the bilingual
// fixture. The upgrade needs a bearer token of a patient or clinician;
// start / answer / result / finish mirror the HTTP API (same session view,
// same statuses), replies keep request order and echo "ref"; errors name
// the bad field; another account's session is unknown (404), as over HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { startFhir, http, addUser, login } from './fhir_fx.mjs';
import { run, tempDir } from './helpers.mjs';

const FIXTURE = join(process.env.MV_SOURCE_DIR, 'tests/data/clf/inquiry/train.csv');
let S, modelDir;

const wsUrl = () => S.base.replace(/^http/, 'ws') + '/ws/triage';

// Open a chat socket; resolves with { ws, ask(msg) -> next reply }.
function chat(tok, { query = false } = {}) {
  return new Promise((resolve, reject) => {
    const url = wsUrl() + (tok && query ? `?access_token=${encodeURIComponent(tok)}` : '');
    const headers = tok && !query ? { authorization: `Bearer ${tok}` } : {};
    const ws = new WebSocket(url, { headers });
    const replies = [], waiting = [];
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (waiting.length) waiting.shift()(m); else replies.push(m);
    });
    const next = () => new Promise((res) => (replies.length ? res(replies.shift()) : waiting.push(res)));
    ws.on('open', () => resolve({
      ws,
      next,
      send: (msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)),
      ask: (msg) => { ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)); return next(); },
    }));
    ws.on('unexpected-response', (_req, res) => reject(Object.assign(new Error('refused'), { status: res.statusCode })));
    ws.on('error', reject);
  });
}

before(async () => {
  modelDir = tempDir('mv-triage-ws-');
  const model = join(modelDir, 'model.bin');
  const tr = run(['triage', 'train', '--train', FIXTURE, '--out', model]);
  assert.equal(tr.status, 0, `triage train: ${tr.stderr}`);
  S = await startFhir(['--triage-model', model]);
  addUser(S.srv.dataDir, 'wspat2', 'patient', ['--fhir-id', 'pat-b']);
  S.tok.patient2 = await login(S.base, 'wspat2');
});

after(async () => {
  if (modelDir) rmSync(modelDir, { recursive: true, force: true });
  if (!S) return;
  const r = await S.srv.stop();
  assert.equal(r.code, 0, `server exited ${r.code}/${r.signal}:\n${S.srv.stderr()}`);
  assert.ok(!/tired and unwell|crushing chest|拉肚子/i.test(S.srv.stderr()), 'patient text leaked into the log');
});

test('the upgrade needs a patient or clinician token', async () => {
  await assert.rejects(chat(null), (e) => e.status === 401);
  await assert.rejects(chat('mv1.bogus.token'), (e) => e.status === 401);
  await assert.rejects(chat(S.tok.device), (e) => e.status === 403);
  const c = await chat(S.tok.patient, { query: true }); // access_token query works too
  c.ws.close();
});

test('start, answer, result and finish mirror the HTTP API', async () => {
  const c = await chat(S.tok.patient);
  const st = await c.ask({ type: 'start', text: 'I feel tired and unwell', lang: 'en', ref: 'r1' });
  assert.equal(st.type, 'start', JSON.stringify(st));
  assert.equal(st.status, 201);
  assert.equal(st.ref, 'r1');
  const s0 = st.session;
  assert.match(s0.id, /^[0-9a-f]{32}$/);
  assert.equal(s0.status, 'asking');
  assert.equal(s0.patient, 'Patient/pat-a');
  assert.ok(s0.question && s0.question.concept, JSON.stringify(s0));
  assert.match(s0.disclaimer, /not a diagnosis/);

  // The same session over HTTP.
  const viaHttp = await http(S.base, 'GET', `/triage/sessions/${s0.id}`, { token: S.tok.patient });
  assert.equal(viaHttp.status, 200);
  assert.deepEqual(viaHttp.json.differential, s0.differential);

  const an = await c.ask({ type: 'answer', session: s0.id, concept: s0.question.concept, answer: 'no', ref: 7 });
  assert.equal(an.type, 'answer', JSON.stringify(an));
  assert.equal(an.status, 200);
  assert.equal(an.ref, 7);
  assert.equal(an.session.id, s0.id);
  assert.ok(an.session.version > s0.version);

  const rs = await c.ask({ type: 'result', session: s0.id });
  assert.equal(rs.status, 200);
  assert.equal(rs.session.version, an.session.version);

  const fin = await c.ask({ type: 'finish', session: s0.id });
  assert.equal(fin.status, 200, JSON.stringify(fin));
  assert.equal(fin.session.status, 'complete');
  assert.ok(['emergency', 'urgent', 'soon', 'self-care'].includes(fin.session.urgency));

  // Pipelined requests are answered in order.
  c.send({ type: 'result', session: s0.id, ref: 'a' });
  c.send({ type: 'result', session: 'nope', ref: 'b' });
  c.send({ type: 'result', session: s0.id, ref: 'c' });
  const got = [await c.next(), await c.next(), await c.next()].map((m) => m.ref);
  assert.deepEqual(got, ['a', 'b', 'c']);
  c.ws.close();
});

test('a red flag ends the session at once as an emergency', async () => {
  const c = await chat(S.tok.patient);
  const r = await c.ask({ type: 'start', text: 'crushing chest pain spreading to my left arm, sweating' });
  assert.equal(r.status, 201, JSON.stringify(r));
  assert.equal(r.session.redFlag, true);
  assert.equal(r.session.urgency, 'emergency');
  assert.equal(r.session.status, 'complete');
  c.ws.close();
});

test('errors name the field; other accounts cannot see a session', async () => {
  const c = await chat(S.tok.patient);
  const e1 = await c.ask({ type: 'start' });
  assert.deepEqual([e1.type, e1.re, e1.status, e1.field], ['error', 'start', 400, 'text']);
  const e2 = await c.ask({ type: 'start', text: 'fever', lang: 'fr' });
  assert.deepEqual([e2.status, e2.field], [400, 'lang']);
  const e3 = await c.ask({ type: 'fly' });
  assert.deepEqual([e3.type, e3.status, e3.field], ['error', 400, 'type']);
  const e4 = await c.ask('not json');
  assert.deepEqual([e4.type, e4.status, e4.field], ['error', 400, null]);
  const e5 = await c.ask({ type: 'answer', concept: 'fever', answer: 'yes' });
  assert.deepEqual([e5.status, e5.field], [400, 'session']);
  const e6 = await c.ask({ type: 'result', session: '0'.repeat(32) });
  assert.equal(e6.status, 404);
  const e7 = await c.ask({ type: 'start', text: 'x'.repeat(20000) });
  assert.equal(e7.status, 413);

  const st = await c.ask({ type: 'start', text: '最近拉肚子，肚子疼' });
  assert.equal(st.status, 201, JSON.stringify(st));
  assert.equal(st.session.lang, 'zh');
  const id = st.session.id;
  if (st.session.status === 'asking') {
    const bad = await c.ask({ type: 'answer', session: id, concept: st.session.question.concept, answer: 'maybe' });
    assert.deepEqual([bad.status, bad.field], [400, 'answer']);
    const unk = await c.ask({ type: 'answer', session: id, concept: 'no_such_concept', answer: 'yes' });
    assert.deepEqual([unk.status, unk.field], [400, 'concept']);
  }
  const other = await chat(S.tok.patient2);
  const o = await other.ask({ type: 'result', session: id });
  assert.equal(o.status, 404);
  const oa = await other.ask({ type: 'finish', session: id });
  assert.equal(oa.status, 404);
  other.ws.close();
  c.ws.close();
});
