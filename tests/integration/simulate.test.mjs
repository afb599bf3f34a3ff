// SPDX-License-Identifier: Apache-2.0
// `medverse simulate` against a real server: over the WebSocket device
// protocol and over FHIR batch Bundles the Observations the simulator counts
// as acknowledged are exactly the ones the server stored (FHIR search), a
// second run with the same seed reuses the Patients, the ECG chunks are
// acknowledged, with --vitals-series the stored SampledData Observations
// hold exactly the acknowledged data points, and bad options are refused
// with usage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { run, start, tempDir } from './helpers.mjs';
import { PW, addUser, http, login } from './fhir_fx.mjs';

let S, base, tok, pwFile, mllpPort;

const freePort = () => new Promise((resolve) => {
  const srv = createServer();
  srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
});

before(async () => {
  mllpPort = await freePort();
  S = await start('serve', ['--mllp-port', String(mllpPort)]);
  base = S.url;
  addUser(S.dataDir, 'doc', 'clinician', ['--fhir-id', 'prac-doc']);
  addUser(S.dataDir, 'admin1', 'admin');
  tok = await login(base, 'admin1');
  pwFile = join(tempDir('mv-sim-'), 'pw');
  writeFileSync(pwFile, PW + '\n');
});

after(async () => { if (S) await S.stop(); });

function simulate(args) {
  const r = run(['simulate', '--server', base, '--user', 'doc', '--password-file', pwFile,
    '--quiet', ...args], { timeout: 60000 });
  let summary = null;
  try { summary = JSON.parse(r.stdout.trim().split('\n').pop()); } catch { summary = null; }
  return { ...r, summary };
}

async function patientIds(seed, n) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const r = await http(base, 'GET', `/fhir/Patient?identifier=${encodeURIComponent(`urn:medverse:simulator|${seed}-${i}`)}`, { token: tok });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.total, 1, `one Patient for ${seed}-${i}`);
    ids.push(r.json.entry[0].resource.id);
  }
  return ids;
}

async function observationCount(ids) {
  let n = 0;
  for (const id of ids) {
    const r = await http(base, 'GET', `/fhir/Observation?patient=${id}&_count=1`, { token: tok });
    assert.equal(r.status, 200, r.text);
    n += r.json.total;
  }
  return n;
}

test('simulate over http: acknowledged values are the stored Observations', async () => {
  const r = simulate(['--patients', '2', '--scenario', 'sepsis', '--via', 'http', '--seed', '71',
    '--duration', '2.5']);
  assert.equal(r.status, 0, r.stderr);
  const s = r.summary;
  assert.ok(s, r.stdout);
  assert.equal(s.via, 'http');
  assert.equal(s.errors, 0);
  assert.ok(s.values_acked >= 10, JSON.stringify(s));
  assert.equal(s.values_acked, s.values_sent);
  const ids = await patientIds(71, 2);
  assert.equal(await observationCount(ids), s.values_acked);
});

test('simulate over ws: acknowledged values are stored, reruns resume', async () => {
  const args = ['--patients', '2', '--scenario', 'hypoxia', '--via', 'ws', '--seed', '72',
    '--duration', '2.5', '--no-ecg'];
  const a = simulate(args);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.summary.errors, 0);
  assert.ok(a.summary.values_acked >= 10, JSON.stringify(a.summary));
  assert.equal(a.summary.messages_acked, a.summary.messages_sent);
  const ids = await patientIds(72, 2);
  assert.equal(await observationCount(ids), a.summary.values_acked);
  // Same seed again: the same Patients, the streams continue their sequence.
  const b = simulate(args);
  assert.equal(b.status, 0, b.stderr);
  assert.equal(b.summary.errors, 0);
  assert.deepEqual(await patientIds(72, 2), ids);
  assert.equal(await observationCount(ids), a.summary.values_acked + b.summary.values_acked);
});

// All Observations of a patient (every page of the search).
async function observations(id) {
  const out = [];
  let url = `/fhir/Observation?patient=${id}&_count=200`;
  for (let page = 0; url && page < 50; page++) {
    const r = await http(base, 'GET', url, { token: tok });
    assert.equal(r.status, 200, r.text);
    for (const e of r.json.entry || []) out.push(e.resource);
    const next = (r.json.link || []).find((l) => l.relation === 'next');
    url = next ? next.url.replace(/^https?:\/\/[^/]+/, '') : null;
  }
  return out;
}

test('simulate over ws with --vitals-series: one SampledData Observation per code and series', async () => {
  const n = 30;
  const r = simulate(['--patients', '2', '--scenario', 'artifact', '--via', 'ws', '--seed', '75',
    '--speed', '100', '--duration', '2.5', '--no-ecg', '--vitals-series', String(n)]);
  assert.equal(r.status, 0, r.stderr);
  const s = r.summary;
  assert.ok(s, r.stdout);
  assert.equal(s.errors, 0);
  assert.equal(s.vitals_shape, 'series');
  assert.equal(s.vitals_series, n);
  assert.ok(s.messages_acked >= 2, JSON.stringify(s));
  assert.equal(s.messages_acked, s.messages_sent);
  // Six series (HR, SpO2, systolic, diastolic, RR, temperature) of n points.
  assert.equal(s.observations_acked, 6 * s.messages_acked);
  assert.equal(s.values_acked, 6 * n * s.messages_acked);
  const ids = await patientIds(75, 2);
  let points = 0, sampled = 0;
  for (const id of ids) {
    const obs = await observations(id);
    for (const o of obs) {
      const sd = o.valueSampledData;
      assert.ok(sd, `${o.id}: valueSampledData expected, got ${JSON.stringify(o).slice(0, 200)}`);
      assert.equal(o.valueQuantity, undefined);
      assert.equal(sd.period, 1000);
      const data = sd.data.trim().split(/\s+/);
      assert.equal(data.length, n);
      assert.ok(data.every((x) => Number.isFinite(Number(x))), sd.data);
      // n points 1 s apart: the period spans n - 1 seconds.
      const span = Date.parse(o.effectivePeriod.end) - Date.parse(o.effectivePeriod.start);
      assert.equal(span, (n - 1) * 1000);
      points += data.length;
      sampled++;
    }
  }
  assert.equal(sampled, s.observations_acked);
  assert.equal(points, s.values_acked);
  // The option is for the device protocol only, and not with --batch.
  for (const args of [['--via', 'http', '--vitals-series', '5'], ['--via', 'ws', '--vitals-series', '0'],
    ['--via', 'ws', '--vitals-series', '5', '--batch', '2']]) {
    const b = run(['simulate', '--server', base, '--scenario', 'normal', ...args]);
    assert.equal(b.status, 2, `${args.join(' ')}: ${b.stderr}`);
  }
});

test('simulate over ws with ECG: waveform chunks are acknowledged', async () => {
  const r = simulate(['--patients', '1', '--scenario', 'normal', '--via', 'ws', '--seed', '73',
    '--duration', '3', '--ecg-hz', '250']);
  assert.equal(r.status, 0, r.stderr);
  const s = r.summary;
  assert.equal(s.errors, 0);
  assert.ok(s.samples_acked >= 500, JSON.stringify(s));
  assert.equal(s.samples_acked % 250, 0);
  const ids = await patientIds(73, 1);
  // Every vital value and every ECG chunk is an Observation (plus derived
  // heart rates).
  assert.ok(await observationCount(ids) >= s.values_acked + s.samples_acked / 250);
});

test('simulate over mllp: acknowledged ORU^R01 values are stored', async () => {
  const r = simulate(['--patients', '3', '--scenario', 'artifact', '--via', 'mllp', '--mllp',
    `127.0.0.1:${mllpPort}`, '--seed', '74', '--duration', '2.5']);
  assert.equal(r.status, 0, r.stderr);
  const s = r.summary;
  assert.equal(s.errors, 0);
  assert.ok(s.messages_acked >= 3, JSON.stringify(s));
  assert.equal(s.messages_acked, s.messages_sent);
  assert.equal(s.values_acked, 6 * s.messages_acked);
  // Systolic and diastolic arrive as two OBX; the server may store them as
  // one panel, so between 5 and 6 Observations per message.
  const n = await observationCount(await patientIds(74, 3));
  assert.ok(n >= 5 * s.messages_acked && n <= 6 * s.messages_acked, `${n} Observations`);
});

test('simulate refuses bad options with usage', () => {
  for (const args of [['--scenario', 'flu', '--via', 'ws'], ['--scenario', 'normal', '--via', 'smtp'],
    ['--scenario', 'normal', '--via', 'ws', '--patients', '0'], ['--scenario', 'normal', '--via', 'mllp']]) {
    const r = run(['simulate', '--server', base, ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage: medverse simulate/);
  }
  const h = run(['simulate', '--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /--scenario/);
});
