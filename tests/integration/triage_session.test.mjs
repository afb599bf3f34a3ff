// SPDX-License-Identifier: Apache-2.0
// The triage session API end to end (docs/API.md "Triage"): a model trained
// with the real `medverse triage train` on a small bilingual fixture
// (tests/data/clf/inquiry/train.csv), a session whose follow-up answers move
// the posterior, a red-flag session that ends at once as an emergency, the
// stored DiagnosticReport and provisional Conditions readable through FHIR by
// the patient and the care-team clinician but not by another patient or an
// unrelated clinician, bad input as OperationOutcomes with a path, unknown
// sessions (404), idle expiry, the WebSocket announcement, and a server
// without a model (red flags and urgency only).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync, rmSync } from 'node:fs';
import WebSocket from 'ws';
import { startFhir, http, addUser, login } from './fhir_fx.mjs';
import { run, tempDir, start } from './helpers.mjs';

const FIXTURE = join(process.env.MV_SOURCE_DIR, 'tests/data/clf/inquiry/train.csv');
const IDLE_S = 3;
let S, model, modelDir;

const post = (path, tok, body, headers) =>
  http(S.base, 'POST', path, { token: tok, body, headers: { 'content-type': 'application/json', ...headers } });
const get = (path, tok) => http(S.base, 'GET', path, { token: tok });

function top(sess) { return sess.differential[0]; }
function pOf(sess, label) {
  const d = sess.differential.find((x) => x.label === label);
  return d ? d.p : 0;
}

before(async () => {
  modelDir = tempDir('mv-triage-model-');
  model = join(modelDir, 'model.bin');
  const tr = run(['triage', 'train', '--train', FIXTURE, '--out', model]);
  assert.equal(tr.status, 0, `triage train: ${tr.stderr}`);
  S = await startFhir(['--triage-model', model, '--triage-session-idle-s', String(IDLE_S)]);
  addUser(S.srv.dataDir, 'pat2', 'patient', ['--fhir-id', 'pat-b']);
  S.tok.patient2 = await login(S.base, 'pat2');
});

after(async () => {
  if (modelDir) rmSync(modelDir, { recursive: true, force: true });
  if (!S) return;
  const r = await S.srv.stop();
  assert.equal(r.code, 0, `server exited ${r.code}/${r.signal}:\n${S.srv.stderr()}`);
  // No patient words in the server's log.
  assert.ok(!/exhausted|tired|sneez|拉肚子|chest pain/i.test(S.srv.stderr()), 'patient text leaked into the log');
});

test('a session asks questions, answers move the posterior, the result is stored', async () => {
  const r = await post('/triage/sessions', S.tok.patient, { text: 'I feel tired and unwell', lang: 'en' });
  assert.equal(r.status, 201, r.text);
  const s0 = r.json;
  assert.match(s0.id, /^[0-9a-f]{32}$/);
  assert.ok(r.headers.get('location').endsWith(`/triage/sessions/${s0.id}`));
  assert.equal(s0.status, 'asking');
  assert.equal(s0.patient, 'Patient/pat-a');
  assert.equal(s0.redFlag, false);
  assert.equal(s0.lang, 'en');
  assert.equal(s0.differential.length, 3);
  assert.ok(top(s0).p < 0.9, `already confident: ${JSON.stringify(s0.differential)}`);
  assert.ok(s0.question && s0.question.concept && /\?$/.test(s0.question.question), JSON.stringify(s0.question));
  assert.ok(s0.question.gainBits > 0);
  assert.match(s0.disclaimer, /not a diagnosis/);

  // Answer yes to diarrhoea-type questions, no to the rest, until done.
  const gastro = new Set(['diarrhoea', 'vomiting', 'nausea', 'abdominal_pain']);
  let s = s0, prevP = pOf(s0, 'gastroenteritis'), moved = false, asked = 0;
  while (s.status === 'asking') {
    const c = s.question.concept;
    const a = gastro.has(c) ? 'yes' : 'no';
    const r2 = await post(`/triage/sessions/${s.id}/answers`, S.tok.patient, { concept: c, answer: a });
    assert.equal(r2.status, 200, r2.text);
    const p = pOf(r2.json, 'gastroenteritis');
    if (Math.abs(p - prevP) > 1e-9) moved = true;
    prevP = p;
    s = r2.json;
    asked++;
    assert.ok(asked <= 12, 'too many questions');
  }
  assert.ok(moved, 'answers never changed the posterior');
  assert.equal(s.answers.length, asked);
  assert.equal(top(s).label, 'gastroenteritis', JSON.stringify(s.differential));
  assert.ok(['emergency', 'urgent', 'soon', 'self-care'].includes(s.urgency));
  assert.ok(s.advice.length > 0 && s.clinicianSummary.includes('gastroenteritis'));
  assert.match(s.report, /^DiagnosticReport\/.+/);
  assert.ok(s.conditions.length >= 1);

  // An answered session takes no more answers.
  const late = await post(`/triage/sessions/${s.id}/answers`, S.tok.patient, { concept: 'fever', answer: 'yes' });
  assert.equal(late.status, 409, late.text);

  // The report through FHIR: patient and care-team clinician yes, others no.
  for (const who of ['patient', 'doc1']) {
    const dr = await get(`/fhir/${s.report}`, S.tok[who]);
    assert.equal(dr.status, 200, `${who}: ${dr.text}`);
    assert.equal(dr.json.status, 'preliminary');
    assert.equal(dr.json.subject.reference, 'Patient/pat-a');
    assert.match(dr.json.conclusion, /not a diagnosis/);
    const form = dr.json.presentedForm.find((f) => f.contentType === 'application/json');
    const inner = JSON.parse(Buffer.from(form.data, 'base64').toString('utf8'));
    assert.equal(inner.differential[0].label, 'gastroenteritis');
    const c = await get(`/fhir/${s.conditions[0]}`, S.tok[who]);
    assert.equal(c.status, 200, c.text);
    assert.equal(c.json.verificationStatus.coding[0].code, 'provisional');
    assert.equal(c.json.code.text, 'gastroenteritis');
    assert.equal(c.json.evidence[0].detail[0].reference, s.report);
  }
  for (const who of ['patient2', 'doc2']) {
    const dr = await get(`/fhir/${s.report}`, S.tok[who]);
    assert.equal(dr.status, 403, `${who}: ${dr.status}`);
    const g = await get(`/triage/sessions/${s.id}`, S.tok[who]);
    assert.equal(g.status, 404, `${who} sees the session: ${g.status}`);
  }
  const search = await get('/fhir/DiagnosticReport?patient=pat-a', S.tok.doc1);
  assert.equal(search.status, 200);
  assert.ok(search.json.entry.some((e) => `DiagnosticReport/${e.resource.id}` === s.report));
  const viaDoc = await get(`/triage/sessions/${s.id}`, S.tok.doc1);
  assert.equal(viaDoc.status, 200, viaDoc.text);
  assert.equal(viaDoc.json.report, s.report);
});

test('symptoms the text mentions or denies are never asked', async () => {
  for (const text of ['I feel tired and unwell, no diarrhea and no vomiting', '很疲劳，没有拉肚子，也没有呕吐']) {
    const r = await post('/triage/sessions', S.tok.patient, { text });
    assert.equal(r.status, 201, r.text);
    let s = r.json;
    const asked = [];
    while (s.status === 'asking') {
      asked.push(s.question.concept);
      const r2 = await post(`/triage/sessions/${s.id}/answers`, S.tok.patient, { concept: s.question.concept, answer: 'unsure' });
      assert.equal(r2.status, 200, r2.text);
      s = r2.json;
    }
    assert.ok(!asked.includes('diarrhoea') && !asked.includes('vomiting') && !asked.includes('fatigue'), asked.join());
    assert.ok(s.drivers.some((d) => d.concept === 'fatigue' && d.source === 'text'));
    assert.ok(!s.drivers.some((d) => d.concept === 'diarrhoea'));
    // "unsure" changes nothing: the posterior is the text's.
    assert.deepEqual(s.differential, r.json.differential);
  }
});

test('answers in Chinese: questions come in the patient language', async () => {
  const r = await post('/triage/sessions', S.tok.patient, { text: '最近很疲劳，没力气' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.lang, 'zh');
  if (r.json.status === 'asking') assert.match(r.json.question.question, /？$/);
  assert.match(r.json.disclaimer, /不是诊断/);
  const f = await post(`/triage/sessions/${r.json.id}/finish`, S.tok.patient, {});
  assert.equal(f.status, 200, f.text);
  assert.equal(f.json.status, 'complete');
  assert.equal(f.json.question, null);
});

test('a red flag ends the session at once as an emergency', async () => {
  const r = await post('/triage/sessions', S.tok.patient, {
    text: 'I have crushing chest pain spreading to my left arm and I am sweating',
  });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.redFlag, true);
  assert.equal(r.json.redFlagCategory, 'heart_attack');
  assert.equal(r.json.urgency, 'emergency');
  assert.equal(r.json.status, 'complete');
  assert.equal(r.json.question, null);
  assert.match(r.json.advice, /emergency|999|911|112/i);
  assert.match(r.json.report, /^DiagnosticReport\//);
  const zh = await post('/triage/sessions', S.tok.patient, { text: '我胸口剧烈疼痛，喘不上气，出冷汗' });
  assert.equal(zh.status, 201, zh.text);
  assert.equal(zh.json.redFlag, true);
  assert.equal(zh.json.urgency, 'emergency');
  assert.match(zh.json.advice, /120/);
  // A negated mention does not trigger.
  const neg = await post('/triage/sessions', S.tok.patient, { text: 'no chest pain, just a runny nose and sneezing' });
  assert.equal(neg.status, 201, neg.text);
  assert.equal(neg.json.redFlag, false);
});

test('a clinician runs a session for a care-team patient only', async () => {
  const ok = await post('/triage/sessions', S.tok.doc1, { text: 'fever and a cough', patient: 'Patient/pat-a' });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json.patient, 'Patient/pat-a');
  const no = await post('/triage/sessions', S.tok.doc2, { text: 'fever and a cough', patient: 'Patient/pat-a' });
  assert.equal(no.status, 403, no.text);
  assert.equal(no.json.issue[0].expression[0], 'patient');
  // Without a patient: not stored.
  const anon = await post('/triage/sessions', S.tok.doc2, { text: 'sneezing and itchy eyes' });
  assert.equal(anon.status, 201, anon.text);
  assert.equal(anon.json.patient, undefined);
  const fin = await post(`/triage/sessions/${anon.json.id}/finish`, S.tok.doc2, {});
  assert.equal(fin.json.status, 'complete');
  assert.equal(fin.json.report, undefined);
  // A patient cannot run a session for someone else; devices cannot at all.
  const other = await post('/triage/sessions', S.tok.patient, { text: 'fever', patient: 'Patient/pat-b' });
  assert.equal(other.status, 403);
  const dev = await post('/triage/sessions', S.tok.device, { text: 'fever' });
  assert.equal(dev.status, 403);
  const none = await post('/triage/sessions', undefined, { text: 'fever' });
  assert.equal(none.status, 401);
});

test('bad input is an OperationOutcome naming the element', async () => {
  const cases = [
    [{}, 'text'],
    [{ text: '' }, 'text'],
    [{ text: '   ' }, 'text'],
    [{ text: 42 }, 'text'],
    [{ text: 'x'.repeat(5000) }, 'text'],
    [{ text: 'fever', lang: 'fr' }, 'lang'],
    [{ text: 'fever', patient: 'Practitioner/x' }, 'patient'],
  ];
  for (const [body, path] of cases) {
    const r = await post('/triage/sessions', S.tok.patient, body);
    assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 60)}: ${r.status} ${r.text}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.deepEqual(r.json.issue[0].expression, [path]);
  }
  const notJson = await http(S.base, 'POST', '/triage/sessions', {
    token: S.tok.patient, body: '{"text": "fev', raw: true, headers: { 'content-type': 'application/json' },
  });
  assert.equal(notJson.status, 400);
  assert.equal(notJson.json.resourceType, 'OperationOutcome');
  const s = await post('/triage/sessions', S.tok.patient, { text: 'I feel tired and unwell', lang: 'en' });
  assert.equal(s.status, 201, s.text);
  const badAns = await post(`/triage/sessions/${s.json.id}/answers`, S.tok.patient, { concept: 'fever', answer: 'maybe' });
  assert.equal(badAns.status, 400);
  assert.deepEqual(badAns.json.issue[0].expression, ['answer']);
  const badConcept = await post(`/triage/sessions/${s.json.id}/answers`, S.tok.patient, { concept: 'no_such_thing', answer: 'yes' });
  assert.equal(badConcept.status, 400);
  assert.deepEqual(badConcept.json.issue[0].expression, ['concept']);
  await http(S.base, 'DELETE', `/triage/sessions/${s.json.id}`, { token: S.tok.patient });
});

test('unknown sessions are 404, idle sessions expire', async () => {
  const u = await get(`/triage/sessions/${'0'.repeat(32)}`, S.tok.patient);
  assert.equal(u.status, 404);
  assert.equal(u.json.resourceType, 'OperationOutcome');
  const junk = await get('/triage/sessions/nope', S.tok.patient);
  assert.equal(junk.status, 404);
  const s = await post('/triage/sessions', S.tok.patient, { text: 'I feel tired and unwell', lang: 'en' });
  assert.equal(s.status, 201);
  assert.equal((await get(`/triage/sessions/${s.json.id}`, S.tok.patient)).status, 200);
  await new Promise((res) => setTimeout(res, (IDLE_S + 1.5) * 1000));
  const gone = await get(`/triage/sessions/${s.json.id}`, S.tok.patient);
  assert.equal(gone.status, 404);
  const del = await http(S.base, 'DELETE', `/triage/sessions/${s.json.id}`, { token: S.tok.patient });
  assert.equal(del.status, 404);
});

test('one account holds at most 32 live sessions', async () => {
  const tok = await login(S.base, 'doc2');
  let status = 0, n = 0;
  for (; n < 40; n++) {
    const r = await post('/triage/sessions', tok, { text: 'sneezing and a runny nose' });
    status = r.status;
    if (status !== 201) {
      assert.equal(r.json.resourceType, 'OperationOutcome');
      break;
    }
  }
  assert.equal(status, 429);
  assert.ok(n >= 30 && n <= 32, `cap hit after ${n}`);
  // Another account is not affected.
  const other = await post('/triage/sessions', S.tok.patient2, { text: 'sneezing' });
  assert.equal(other.status, 201, other.text);
});

test('changes are announced on the WebSocket topic triage/<id> without clinical content', async () => {
  const s = await post('/triage/sessions', S.tok.patient, { text: 'I feel tired and unwell', lang: 'en' });
  assert.equal(s.status, 201);
  const ws = new WebSocket(S.base.replace(/^http/, 'ws') + '/ws');
  const msgs = [];
  await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
  ws.send(JSON.stringify({ op: 'subscribe', topic: `triage/${s.json.id}` }));
  for (let i = 0; i < 50 && !msgs.some((m) => m.op === 'ok'); i++) await new Promise((r) => setTimeout(r, 20));
  const f = await post(`/triage/sessions/${s.json.id}/finish`, S.tok.patient, {});
  assert.equal(f.status, 200);
  for (let i = 0; i < 100 && !msgs.some((m) => m.data); i++) await new Promise((r) => setTimeout(r, 20));
  ws.close();
  const m = msgs.find((x) => x.data && x.topic === `triage/${s.json.id}`);
  assert.ok(m, JSON.stringify(msgs));
  assert.deepEqual(Object.keys(m.data).sort(), ['session', 'status', 'version']);
  assert.equal(m.data.session, s.json.id);
});

test('without a model: red flags and urgency only; a corrupt model stops the server', async () => {
  const srv = await start('serve');
  try {
    addUser(srv.dataDir, 'p', 'patient', ['--fhir-id', 'pat-x']);
    const tok = await login(srv.url, 'p');
    const r = await http(srv.url, 'POST', '/triage/sessions', {
      token: tok, body: { text: 'I have a mild cough' }, headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.modelLoaded, false);
    assert.deepEqual(r.json.differential, []);
    assert.equal(r.json.status, 'complete');
    assert.ok(r.json.urgency);
    const e = await http(srv.url, 'POST', '/triage/sessions', {
      token: tok, body: { text: 'he is unconscious and not breathing' }, headers: { 'content-type': 'application/json' },
    });
    assert.equal(e.json.urgency, 'emergency');
    // Stored even without a model: a report, no Conditions (no differential).
    assert.match(e.json.report, /^DiagnosticReport\//);
    assert.deepEqual(e.json.conditions, []);
    const dr = await http(srv.url, 'GET', `/fhir/${e.json.report}`, { token: tok });
    assert.equal(dr.status, 200, dr.text);
    assert.equal(dr.json.extension[0].valueCode, 'emergency');
  } finally {
    const st = await srv.stop();
    assert.equal(st.code, 0, srv.stderr());
  }
  const badDir = tempDir('mv-bad-model-'), dataDir = tempDir('mv-data-');
  const bad = join(badDir, 'bad.bin');
  writeFileSync(bad, 'not a model at all');
  try {
    const r = run(['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--triage-model', bad]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /triage/);
  } finally {
    rmSync(badDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
});
