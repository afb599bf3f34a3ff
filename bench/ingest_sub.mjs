// SPDX-License-Identifier: Apache-2.0
// Live delay probe for bench/ingest.sh: subscribes on the /ws hub to
// "patient/<id>/vitals" for each given patient and measures, for every
// published reading, now - the reading's own time (the simulator at speed 1
// stamps a reading with the moment it sends it), i.e. the delay from a
// sample arriving at the server to its appearance on a subscribed
// WebSocket: ingest, validation, durable commit and publish. Runs for
// SECONDS, then prints one JSON line: {n, p50_ms, p99_ms, max_ms}.
// usage: node ingest_sub.mjs URL SECONDS PATIENT_ID...
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'package.json'));
const WebSocket = require('ws');

const [url, secs, ...ids] = process.argv.slice(2);
const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws');
const lat = [];
ws.on('open', () => {
  for (const id of ids) ws.send(JSON.stringify({ op: 'subscribe', topic: `patient/${id}/vitals` }));
});
ws.on('message', (data) => {
  const now = Date.now();
  let m;
  try { m = JSON.parse(data.toString()).data; } catch { return; }
  if (!m) return;
  const t = Date.parse(m.time || '');
  if (m.patient && Number.isFinite(t)) lat.push(now - t);
});
setTimeout(() => {
  lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)] : null);
  console.log(JSON.stringify({ n: lat.length, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: lat.length ? lat[lat.length - 1] : null }));
  ws.close();
  process.exit(0);
}, Number(secs) * 1000);
