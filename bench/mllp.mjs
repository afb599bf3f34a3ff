// SPDX-License-Identifier: Apache-2.0
// MLLP throughput: N concurrent @medplum/hl7 clients send ORU^R01 messages
// (one SpO2 and one heart-rate OBX each) to a fresh `medverse serve` and
// count the AA acknowledgements, which the server sends only after the
// Observations are durable. Each client waits for its ACK before sending the
// next message (HL7 v2 is request/response per connection).
//
//   node bench/mllp.mjs [--bin build/h-mllp-rel/medverse] [--clients 64]
//                       [--seconds 10] [--patients 16] [--obx 2] [--senders N]
//
// Run from the repository root; the packages come from tests/node_modules.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const req = createRequire(resolve('tests/package.json'));
const { Hl7Message } = req('@medplum/core');
const { Hl7Client } = req('@medplum/hl7');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const BIN = args.bin ?? 'build/h-mllp-rel/medverse';
const CLIENTS = Number(args.clients ?? 64);
const SECONDS = Number(args.seconds ?? 10);
const PATIENTS = Number(args.patients ?? 16);
const OBX = Number(args.obx ?? 2); // 1 or 2 OBX rows per message
// Distinct sending applications (MSH-3): one per client by default (each
// monitor its own sender); 1 = one gateway forwarding for all.
const SENDERS = Number(args.senders ?? CLIENTS);
const PW = 'correct horse battery staple';

const freePort = () => new Promise((ok) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => ok(port));
  });
});

const dataDir = mkdtempSync(join(tmpdir(), 'mv-bench-mllp-'));
const mllpPort = await freePort();
const proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir,
  '--mllp-port', String(mllpPort), '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((ok, fail) => {
  let out = '';
  proc.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/^listening on (http:\/\/\S+)$/m);
    if (m) ok(m[1]);
  });
  proc.on('exit', (c) => fail(new Error(`server exited ${c}`)));
});

const add = spawnSync(BIN, ['admin', 'user', 'add', 'bench', '--role', 'admin', '--password-stdin',
  '--data-dir', dataDir], { input: PW + '\n', encoding: 'utf8' });
if (add.status !== 0) throw new Error(add.stderr);
const tokRes = await fetch(base + '/auth/token', {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'password', username: 'bench', password: PW }).toString(),
});
const token = (await tokRes.json()).access_token;
for (let p = 0; p < PATIENTS; p++) {
  const r = await fetch(`${base}/fhir/Patient/bench-${p}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Patient', id: `bench-${p}` }),
  });
  if (r.status >= 300) throw new Error(`Patient: ${r.status} ${await r.text()}`);
}

const pad = (n) => String(n).padStart(2, '0');
function message(c, i) {
  const d = new Date(Date.UTC(2026, 10, 25) + (c * 1e6 + i) * 1000);
  const ts = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}` +
    `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}+0000`;
  return Hl7Message.parse([
    `MSH|^~\\&|BENCH${c % SENDERS}|ICU|MEDVERSE|HOSP|${ts}||ORU^R01^ORU_R01|B${c}-${i}|P|2.6`,
    `PID|||bench-${c % PATIENTS}`,
    `OBR|1|||182777000^monitoring of patient^SNOMED-CT|||${ts}`,
    `OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.1.1|${90 + (i % 10)}|262688^MDC_DIM_PERCENT^MDC|||||R`,
    `OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.0.1.2|${60 + (i % 40)}|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R`,
  ].slice(0, 3 + OBX).join('\r'));
}

let aa = 0, other = 0;
const lat = [];
let stop = false;
async function client(c) {
  const cl = new Hl7Client({ host: '127.0.0.1', port: mllpPort });
  for (let i = 0; !stop; i++) {
    const t0 = process.hrtime.bigint();
    const ack = await cl.sendAndWait(message(c, i), { timeoutMs: 10000 });
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (ack.getSegment('MSA')?.getField(1)?.toString() === 'AA') aa++;
    else other++;
  }
  await cl.close();
}
// CPU seconds of the server (utime + stime from /proc) and of this client.
const srvCpu = () => {
  const f = readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const cpu0 = srvCpu(), me0 = process.cpuUsage();
const t0 = Date.now();
const runs = Array.from({ length: CLIENTS }, (_, c) => client(c));
await new Promise((r) => setTimeout(r, SECONDS * 1000));
stop = true;
await Promise.all(runs);
const secs = (Date.now() - t0) / 1000;
const srvSecs = srvCpu() - cpu0;
const me = process.cpuUsage(me0);
const cliSecs = (me.user + me.system) / 1e6;
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(1);
console.log(`clients=${CLIENTS} senders=${SENDERS} obx=${OBX} seconds=${secs.toFixed(1)} AA=${aa} other=${other} ` +
  `rate=${(aa / secs).toFixed(0)} ORU^R01/s (${(OBX * aa / secs).toFixed(0)} Observations/s) ` +
  `ack latency p50=${q(0.5)} ms p99=${q(0.99)} ms; ` +
  `server CPU ${srvSecs.toFixed(1)} s (${(1e6 * srvSecs / Math.max(aa, 1)).toFixed(0)} us/msg), ` +
  `client CPU ${cliSecs.toFixed(1)} s; load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`);
proc.kill('SIGTERM');
await new Promise((r) => proc.on('exit', r));
rmSync(dataDir, { recursive: true, force: true });
