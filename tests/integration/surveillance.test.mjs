// SPDX-License-Identifier: Apache-2.0
// Surveillance in the server (issue 7): case counts uploaded as CSV and as
// FHIR MeasureReport (bad input -> OperationOutcome naming the place), role
// checks, an on-demand run that raises an alert for a planted outbreak and
// not for a flat series, alerts listed and acknowledged, the live push over
// /ws, series results (alarms, Rt, forecast), the regions table by risk,
// the sharing export with small counts suppressed consistently, durability
// across SIGKILL, and the scheduled run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { BIN, start } from './helpers.mjs';
import { http, addUser, login } from './fhir_fx.mjs';

const DAYS = 60;
const day0 = Date.UTC(2026, 0, 1);
const date = (i) => new Date(day0 + i * 86400000).toISOString().slice(0, 10);

// Flat: 10, 11, 12, 10, ... Outbreak: the same, then a jump on the last day.
function csv(regions, { last = 60, disease = null } = {}) {
  const lines = [disease ? 'date,unit,observed,population' : 'date,unit,observed,population,disease'];
  for (const r of regions)
    for (let i = 0; i < DAYS; i++) {
      const v = r === 'outbreak' && i === DAYS - 1 ? last : 10 + (i % 3);
      lines.push(`${date(i)},${r},${v},50000${disease ? '' : ',influenza'}`);
    }
  return lines.join('\n') + '\n';
}

const post = (S, path, text, type, tok) =>
  http(S.base, 'POST', path, { token: tok ?? S.tok.epi, body: text, raw: true, headers: { 'content-type': type } });

async function serve(args = []) {
  const srv = await start('serve', args);
  addUser(srv.dataDir, 'epi1', 'public-health');
  addUser(srv.dataDir, 'admin1', 'admin');
  addUser(srv.dataDir, 'doc1', 'clinician');
  addUser(srv.dataDir, 'pat1', 'patient');
  const tok = {};
  for (const [k, u] of [['epi', 'epi1'], ['admin', 'admin1'], ['doc', 'doc1'], ['patient', 'pat1']])
    tok[k] = await login(srv.url, u);
  return { srv, base: srv.url, tok };
}

let S;
before(async () => { S = await serve(); });
after(async () => {
  if (!S) return;
  const r = await S.srv.stop();
  assert.equal(r.code, 0, `server exited ${r.code}/${r.signal}:\n${S.srv.stderr()}`);
});

function wsMessages(base) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`);
  const got = [];
  const waiters = [];
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    if (m.topic !== 'surveillance' || m.data === undefined) return;
    got.push(m.data);
    for (const w of waiters.splice(0)) w();
  });
  const opened = new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  return {
    ws, got,
    async subscribe() {
      await opened;
      ws.send(JSON.stringify({ op: 'subscribe', topic: 'surveillance' }));
      await new Promise((r) => setTimeout(r, 200));
    },
    async waitFor(pred, ms = 8000) {
      const t0 = Date.now();
      for (;;) {
        const m = got.find(pred);
        if (m) return m;
        if (Date.now() - t0 > ms) throw new Error(`no matching push in ${ms} ms: ${JSON.stringify(got)}`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 200); });
      }
    },
  };
}

test('CSV upload is durable, idempotent and validated', async () => {
  let r = await post(S, '/surveillance/counts', csv(['flat', 'outbreak']), 'text/csv');
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.accepted, 2 * DAYS);
  r = await post(S, '/surveillance/counts', csv(['flat', 'outbreak']), 'text/csv');
  assert.equal(r.status, 201);
  assert.equal(r.json.replaced, 0, 'the same upload again replaces nothing');
  // t-indexed rows with ?start= and ?disease=
  r = await post(S, '/surveillance/counts?disease=measles&start=2026-01-01', 't,unit,observed\n1,north,0\n2,north,3\n', 'text/csv');
  assert.equal(r.status, 201, r.text);

  const bad = [
    ['date,unit,observed,disease\n2026-01-01,a,5,flu\n2026-01-02,a,-3,flu\n', 'line 3, column observed'],
    ['date,unit,observed,disease\n2026-01-01,a,2.5,flu\n', 'line 2, column observed'],
    ['date,unit,observed,disease\n2026-02-30,a,2,flu\n', 'line 2, column date'],
    ['date,unit,disease\n2026-01-01,a,flu\n', 'line 1'],
    ['date,unit,observed\n2026-01-01,a,2\n', 'line 1'],
    ['date,unit,observed,disease\n2026-01-01,a,2,flu\n2026-01-01,a,3,flu\n', 'line 3'],
    ['t,unit,observed,disease\n1,a,2,flu\n', 'line 1, column t'],
  ];
  for (const [body, where] of bad) {
    r = await post(S, '/surveillance/counts', body, 'text/csv');
    assert.equal(r.status, 400, `${body}: ${r.text}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.equal(r.json.issue[0].expression[0], where, r.text);
  }
  r = await post(S, '/surveillance/counts', 'x', 'text/plain');
  assert.equal(r.status, 415);
  // Nothing of a failed upload was stored.
  r = await http(S.base, 'GET', '/surveillance/series?region=a&disease=flu', { token: S.tok.epi });
  assert.equal(r.status, 404);
});

test('MeasureReport upload, single and Bundle, with FHIRPath errors', async () => {
  const mr = (region, day, count, disease = 'influenza') => ({
    resourceType: 'MeasureReport', status: 'complete', type: 'summary',
    measure: 'http://example.org/Measure/cases',
    subject: { display: region }, reporter: { identifier: { value: 'site-b' } },
    period: { start: day, end: day },
    group: [{ code: { text: disease }, measureScore: { value: count },
      population: [{ code: { coding: [{ code: 'denominator' }] }, count: 1000 }] }],
  });
  let r = await post(S, '/surveillance/counts', JSON.stringify(mr('east', '2026-01-05', 4)), 'application/fhir+json');
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.accepted, 1);
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: [
    { resource: mr('east', '2026-01-06', 7) }, { resource: mr('east', '2026-01-07', 2) }] };
  r = await post(S, '/surveillance/counts', JSON.stringify(bundle), 'application/fhir+json');
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.accepted, 2);
  r = await http(S.base, 'GET', '/surveillance/series?region=east&disease=influenza', { token: S.tok.epi });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.points.map((p) => p.observed), [4, 7, 2]);

  const noScore = mr('east', '2026-01-08', 1);
  delete noScore.group[0].measureScore;
  const negative = mr('east', '2026-01-08', -1);
  const noDate = mr('east', '2026-01-08', 1);
  delete noDate.period;
  const cases = [
    [noScore, 'MeasureReport.group[0].measureScore'],
    [negative, 'MeasureReport.group[0].measureScore.value'],
    [noDate, 'MeasureReport.period.start'],
    [{ ...mr('east', '2026-01-08', 1), status: undefined }, 'MeasureReport.status'],
    [{ resourceType: 'Bundle', type: 'collection', entry: [{ resource: mr('east', '2026-01-09', 1) }, { resource: negative }] },
      'Bundle.entry[1].resource.group[0].measureScore.value'],
  ];
  for (const [body, where] of cases) {
    r = await post(S, '/surveillance/counts', JSON.stringify(body), 'application/fhir+json');
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.issue[0].expression[0], where, r.text);
  }
  r = await http(S.base, 'GET', '/surveillance/series?region=east&disease=influenza', { token: S.tok.epi });
  assert.equal(r.json.points.length, 3, 'a rejected Bundle stores nothing');
});

test('only public-health and admin reach surveillance', async () => {
  const reqs = [
    ['GET', '/surveillance/regions'],
    ['GET', '/surveillance/alerts'],
    ['GET', '/surveillance/series?region=flat&disease=influenza'],
    ['GET', '/surveillance/export?disease=influenza'],
  ];
  for (const [m, p] of reqs) {
    for (const [who, want] of [['epi', 200], ['admin', 200], ['doc', 403], ['patient', 403]]) {
      const r = await http(S.base, m, p, { token: S.tok[who] });
      assert.equal(r.status, want, `${m} ${p} as ${who}: ${r.text}`);
    }
    const r = await http(S.base, m, p);
    assert.equal(r.status, 401);
    assert.equal(r.json.resourceType, 'OperationOutcome');
  }
  for (const who of ['doc', 'patient']) {
    let r = await post(S, '/surveillance/counts', csv(['x']), 'text/csv', S.tok[who]);
    assert.equal(r.status, 403);
    r = await http(S.base, 'POST', '/surveillance/run', { token: S.tok[who] });
    assert.equal(r.status, 403);
  }
  // public-health reads no patient record.
  const r = await http(S.base, 'GET', '/fhir/Patient', { token: S.tok.epi });
  assert.equal(r.status, 403);
});

test('a run alerts on the outbreak only, pushes it live, and it can be acknowledged', async () => {
  const hub = wsMessages(S.base);
  await hub.subscribe();
  let r = await http(S.base, 'POST', '/surveillance/run', { token: S.tok.epi });
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.series >= 2);
  r = await http(S.base, 'GET', '/surveillance/alerts', { token: S.tok.epi });
  const mine = r.json.alerts.filter((a) => a.disease === 'influenza');
  assert.deepEqual(mine.map((a) => a.region), ['outbreak'], r.text);
  const alert = mine[0];
  assert.equal(alert.date, date(DAYS - 1));
  assert.equal(alert.observed, 60);
  assert.ok(alert.upperbound < 60 && alert.upperbound > 11, r.text);
  assert.equal(alert.method, 'ears-c1');
  const pushed = await hub.waitFor((m) => m.type === 'alert' && m.alert.region === 'outbreak');
  assert.equal(pushed.alert.id, alert.id);
  // The same alarm is not raised twice.
  r = await http(S.base, 'POST', '/surveillance/run', { token: S.tok.epi });
  assert.equal(r.json.newAlerts, 0);
  // Acknowledge: gone from the open list, kept in the full one.
  r = await http(S.base, 'POST', `/surveillance/alerts/${alert.id}/ack`, { token: S.tok.doc });
  assert.equal(r.status, 403);
  r = await http(S.base, 'POST', `/surveillance/alerts/${alert.id}/ack`, { token: S.tok.epi });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.acknowledged, true);
  assert.equal(r.json.acknowledgedBy, 'epi1');
  await hub.waitFor((m) => m.type === 'ack' && m.id === alert.id);
  r = await http(S.base, 'GET', '/surveillance/alerts', { token: S.tok.epi });
  assert.ok(!r.json.alerts.some((a) => a.id === alert.id));
  r = await http(S.base, 'GET', '/surveillance/alerts?status=all', { token: S.tok.epi });
  assert.ok(r.json.alerts.some((a) => a.id === alert.id && a.acknowledged));
  r = await http(S.base, 'POST', '/surveillance/alerts/999999/ack', { token: S.tok.epi });
  assert.equal(r.status, 404);
  hub.ws.close();
});

test('series results: alarms, Rt with credible intervals, forecast; regions by risk', async () => {
  let r = await http(S.base, 'GET', '/surveillance/series?region=outbreak&disease=influenza', { token: S.tok.epi });
  assert.equal(r.status, 200, r.text);
  const s = r.json;
  assert.equal(s.points.length, DAYS);
  assert.equal(s.points.at(-1).alarm, true);
  assert.equal(s.points.filter((p) => p.alarm === true).length, 1);
  assert.equal(s.points[0].upperbound, null, 'no bound inside the baseline');
  assert.ok(s.rt.length > 40);
  for (const e of s.rt) assert.ok(e.lower <= e.median && e.median <= e.upper && e.lower > 0, JSON.stringify(e));
  assert.ok(s.rt.at(-1).mean > s.rt.at(-2).mean, 'the jump raises Rt');
  assert.equal(s.forecast.length, 14);
  assert.ok(s.forecast[0].lower <= s.forecast[0].mean && s.forecast[0].mean <= s.forecast[0].upper);
  assert.equal(s.siMean, 2.6, 'influenza default serial interval');
  r = await http(S.base, 'GET', '/surveillance/series?region=outbreak&disease=influenza&method=ears-c3', { token: S.tok.epi });
  assert.equal(r.json.method, 'ears-c3');
  r = await http(S.base, 'GET', '/surveillance/series?region=outbreak&disease=influenza&method=nope', { token: S.tok.epi });
  assert.equal(r.status, 400);
  assert.equal(r.json.issue[0].expression[0], 'method');
  // Per-disease serial interval.
  r = await http(S.base, 'PUT', '/surveillance/diseases/influenza', { token: S.tok.epi, body: { siMean: 3.1, siSd: 1.2 } });
  assert.equal(r.status, 200, r.text);
  r = await http(S.base, 'GET', '/surveillance/series?region=outbreak&disease=influenza', { token: S.tok.epi });
  assert.equal(r.json.siMean, 3.1);
  r = await http(S.base, 'PUT', '/surveillance/diseases/influenza', { token: S.tok.epi, body: { siMean: 0.5, siSd: 1 } });
  assert.equal(r.status, 400);

  r = await http(S.base, 'GET', '/surveillance/regions?disease=influenza', { token: S.tok.epi });
  assert.equal(r.status, 200);
  const regions = r.json.regions;
  assert.equal(regions[0].region, 'outbreak', r.text);
  for (let i = 1; i < regions.length; i++) assert.ok(regions[i - 1].risk >= regions[i].risk);
  assert.ok(regions[0].risk > 1 && regions.find((x) => x.region === 'flat').risk <= 1);
});

test('sharing export suppresses counts 1-4 so that totals cannot reveal them', async () => {
  // Weekly table: region x ISO week. Small counts in some cells.
  const rows = ['date,unit,observed,disease'];
  const vals = { n1: [0, 3, 12, 20], n2: [9, 1, 15, 30], n3: [40, 8, 2, 7] };
  for (const [reg, vs] of Object.entries(vals))
    vs.forEach((v, w) => rows.push(`${new Date(Date.UTC(2026, 1, 2 + 7 * w)).toISOString().slice(0, 10)},${reg},${v},cholera`));
  let r = await post(S, '/surveillance/counts', rows.join('\n') + '\n', 'text/csv');
  assert.equal(r.status, 201, r.text);
  r = await http(S.base, 'GET', '/surveillance/export?disease=cholera', { token: S.tok.epi });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type'), /text\/csv/);
  const lines = r.text.trim().split('\n');
  assert.equal(lines[0], 'region,period,count,suppressed');
  const cells = lines.slice(1).map((l) => l.split(','));
  for (const [, , count] of cells)
    if (count !== '') assert.ok(!(Number(count) >= 1 && Number(count) <= 4), `small count shown: ${lines.join('\n')}`);
  // Every line (row or column) with a suppressed cell has at least two.
  const inner = cells.filter(([reg, per]) => reg !== '*' && per !== '*');
  const hidden = inner.filter((c) => c[2] === '');
  assert.ok(hidden.length >= 3, r.text);
  for (const key of [0, 1]) {
    const groups = {};
    for (const c of hidden) groups[c[key]] = (groups[c[key]] ?? 0) + 1;
    for (const [k, n] of Object.entries(groups)) assert.ok(n >= 2, `line ${k} has one hidden cell: ${r.text}`);
  }
  // The grand total is exact.
  const total = cells.find(([reg, per]) => reg === '*' && per === '*');
  assert.equal(Number(total[2]), Object.values(vals).flat().reduce((a, b) => a + b, 0));
});

function restart(dataDir, extra = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^listening on (http:\/\/\S+)$/m);
      if (m) resolve({ proc, url: m[1], err: () => err });
    });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code) => reject(new Error(`restart exited ${code}: ${err}`)));
  });
}

test('an acknowledged upload survives SIGKILL', async () => {
  const T = await serve();
  const r = await post(T, '/surveillance/counts', csv(['durable']), 'text/csv');
  assert.equal(r.status, 201, r.text);
  T.srv.proc.kill('SIGKILL');
  await T.srv.exited;
  const again = await restart(T.srv.dataDir);
  try {
    const tok = await login(again.url, 'epi1');
    const s = await http(again.url, 'GET', '/surveillance/series?region=durable&disease=influenza', { token: tok });
    assert.equal(s.status, 200, s.text);
    assert.equal(s.json.points.length, DAYS);
    assert.equal(s.json.points.at(-1).observed, 10 + ((DAYS - 1) % 3));
  } finally {
    again.proc.kill('SIGTERM');
    await new Promise((res) => again.proc.on('exit', res));
    rmSync(T.srv.dataDir, { recursive: true, force: true });
  }
});

test('the scheduled run raises alerts without being asked', async () => {
  const T = await serve(['--surveillance-interval-s', '1']);
  try {
    const hub = wsMessages(T.base);
    await hub.subscribe();
    const r = await post(T, '/surveillance/counts', csv(['outbreak'], { last: 90 }), 'text/csv');
    assert.equal(r.status, 201);
    const m = await hub.waitFor((x) => x.type === 'alert', 8000);
    assert.equal(m.alert.region, 'outbreak');
    assert.equal(m.alert.observed, 90);
    const a = await http(T.base, 'GET', '/surveillance/alerts', { token: T.tok.epi });
    assert.equal(a.json.alerts.length, 1);
    hub.ws.close();
  } finally {
    const s = await T.srv.stop();
    assert.equal(s.code, 0, T.srv.stderr());
  }
});
