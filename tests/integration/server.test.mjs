// SPDX-License-Identifier: Apache-2.0
// Integration test of the HTTP and WebSocket server: starts the real
// `medverse serve` binary on a random loopback port and talks to it with
// fetch, raw sockets and the npm `ws` client (health, metrics, static files,
// errors, 413, pub/sub round trip, slow-consumer drop, malformed HTTP and a
// graceful SIGTERM shutdown).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import WebSocket from 'ws';

// ctest sets MV_BIN (MEDVERSE_* variables are configuration for the binary).
const BIN = process.env.MV_BIN || process.env.MEDVERSE_BIN;
let proc;
let base;
let port;
let dataDir;
let webRoot;
let stderr = '';

// The binary treats every MEDVERSE_* variable as configuration and rejects
// unknown ones, so the child must not inherit any such test variable.
function childEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('MEDVERSE_')) env[k] = v;
  }
  // Under ASan freed memory sits in a 256 MB quarantine, which would hide
  // (or fake) growth in the slow-consumer test; keep it small.
  env.ASAN_OPTIONS = [env.ASAN_OPTIONS, 'quarantine_size_mb=8'].filter(Boolean).join(':');
  return env;
}

function startServer() {
  return new Promise((resolve, reject) => {
    proc = spawn(BIN, [
      'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir,
      '--web-root', webRoot, '--http-body-max', '1024',
      '--ws-queue-msgs', '8', '--log-level', 'warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
    let out = '';
    const timer = setTimeout(() => reject(new Error('no listening line: ' + stderr)), 15000);
    proc.stderr.on('data', (d) => { stderr += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^listening on (http:\/\/([^\s]+):(\d+))\n/m);
      if (m) {
        clearTimeout(timer);
        base = m[1];
        port = Number(m[3]);
        resolve();
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (${code}): ${stderr}`));
    });
  });
}

before(async () => {
  assert.ok(BIN, 'MV_BIN must name the medverse binary');
  dataDir = mkdtempSync(join(tmpdir(), 'mv-data-'));
  webRoot = mkdtempSync(join(tmpdir(), 'mv-web-'));
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>medverse</title>');
  writeFileSync(join(webRoot, 'app.js'), 'export const answer = 42;\n');
  await startServer();
});

after(() => {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(webRoot, { recursive: true, force: true });
});

function raw(text, timeoutMs = 3000) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    const done = () => { s.destroy(); resolve(buf); };
    const t = setTimeout(done, timeoutMs);
    s.on('connect', () => s.write(text));
    s.on('data', (d) => { buf += d.toString('latin1'); });
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(t); resolve(buf); });
  });
}

function rss(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
  return m ? Number(m[1]) * 1024 : 0;
}

async function metric(name) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\d+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}

function openWs() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws, pred = () => true, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no message')), timeoutMs);
    const on = (d) => {
      const msg = JSON.parse(d.toString());
      if (!pred(msg)) return;
      clearTimeout(t);
      ws.off('message', on);
      resolve(msg);
    };
    ws.on('message', on);
  });
}

test('GET /healthz answers ok', async () => {
  const r = await fetch(`${base}/healthz`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /application\/json/);
  assert.deepEqual(await r.json(), { status: 'ok' });
});

test('GET /metrics exposes the server metrics and counts requests', async () => {
  // read the whole answer: it is counted once its last byte is written
  await (await fetch(`${base}/healthz`)).text();
  const r = await fetch(`${base}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/plain; version=0\.0\.4/);
  const text = await r.text();
  for (const name of ['mv_http_requests_total', 'mv_http_request_duration_seconds_bucket',
    'mv_ws_connections', 'mv_ws_messages_in_total', 'mv_ws_messages_out_total',
    'mv_ws_dropped_consumers_total']) {
    assert.ok(text.includes(name), `missing ${name}`);
  }
  const m = text.match(/^mv_http_requests_total\{route="\/healthz",method="GET",status="200"\} (\d+)$/m);
  assert.ok(m && Number(m[1]) >= 2, 'healthz requests are counted');
});

// Checks the Prometheus text format 0.0.4 structure: HELP/TYPE before the
// samples of each family, sample-line grammar, cumulative histogram buckets
// ending in +Inf equal to _count.
function checkExposition(text) {
  const types = new Map();
  const hist = new Map(); // series key -> { last, inf, count }
  const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.eE+-]+|\+Inf|NaN)$/;
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  for (const line of text.split('\n').slice(0, -1)) {
    let m;
    if ((m = line.match(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/))) {
      assert.ok(!types.has(m[1]), `TYPE ${m[1]} given once`);
      types.set(m[1], m[2]);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    m = line.match(sample);
    assert.ok(m, `sample line: ${line}`);
    const [, name, labels = '', value] = m;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    const family = types.has(name) ? name : base;
    assert.ok(types.has(family), `family of ${name} has a TYPE`);
    if (types.get(family) === 'counter') assert.ok(Number(value) >= 0, `${name} >= 0`);
    if (types.get(family) === 'histogram') {
      const le = labels.match(/le="([^"]+)"/)?.[1];
      const key = `${base}${labels.replace(/,?le="[^"]+"/, '').replace(/^\{,?/, '{').replace(/^\{\}$/, '')}`;
      const h = hist.get(key) ?? { last: 0, inf: null, count: null };
      if (name.endsWith('_bucket')) {
        assert.ok(Number(value) >= h.last, `${key} buckets are cumulative`);
        h.last = Number(value);
        if (le === '+Inf') h.inf = Number(value);
      } else if (name.endsWith('_count')) h.count = Number(value);
      hist.set(key, h);
    }
  }
  for (const [key, h] of hist) {
    if (h.count !== null) assert.equal(h.inf, h.count, `${key}: +Inf bucket equals _count`);
  }
  return types;
}

test('GET /metrics follows the Prometheus text format, store metrics included', async () => {
  await (await fetch(`${base}/healthz`)).text();
  await (await fetch(`${base}/no/such/route`)).text();
  const types = checkExposition(await (await fetch(`${base}/metrics`)).text());
  assert.equal(types.get('mv_http_request_duration_seconds'), 'histogram');
  assert.equal(types.get('mv_store_batch_size'), 'histogram');
  assert.equal(types.get('mv_store_commit_seconds'), 'histogram');
  assert.equal(types.get('mv_store_writes_total'), 'counter');
  assert.equal(types.get('mv_ws_connections'), 'gauge');
  // the checker itself rejects a broken exposition
  assert.throws(() => checkExposition('# TYPE x histogram\nx_bucket{le="1"} 2\nx_bucket{le="+Inf"} 1\nx_count 1\n'));
  assert.throws(() => checkExposition('metric without type 1\n'));
});

test('static files are served with their content type', async () => {
  let r = await fetch(`${base}/`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/html/);
  assert.equal(await r.text(), '<!doctype html><title>medverse</title>');
  r = await fetch(`${base}/app.js`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /javascript/);
  assert.equal(await r.text(), 'export const answer = 42;\n');
  r = await fetch(`${base}/missing.css`);
  assert.equal(r.status, 404);
  assert.equal((await r.json()).error, 'MV_ENOTFOUND');
});

test('path traversal is rejected', async () => {
  for (const p of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/..%2f..%2f..%2fetc%2fpasswd']) {
    const res = await raw(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.ok(!/^HTTP\/1\.1 200/.test(res), `${p} must not be served`);
    assert.ok(!res.includes('root:'), `${p} leaked a file`);
  }
});

test('unknown route is a 404 JSON error', async () => {
  const r = await fetch(`${base}/api/does-not-exist`, { method: 'POST' });
  assert.equal(r.status, 404);
  const body = await r.json();
  assert.equal(body.error, 'MV_ENOTFOUND');
  assert.equal(body.path, '/api/does-not-exist');
});

test('a body over --http-body-max gets 413, not a reset', async () => {
  const r = await fetch(`${base}/api/anything`, {
    method: 'POST', body: 'x'.repeat(64 * 1024),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(r.status, 413);
  assert.equal((await r.json()).error, 'MV_ETOOBIG');
});

test('malformed HTTP does not hurt the server', async () => {
  await raw('\x00\x01\x02 nonsense\r\n\r\n', 1000);
  await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n', 1000);
  await raw('GET / HTTP/1.1\r\n' + 'X-Long: ' + 'a'.repeat(40000) + '\r\n\r\n', 1000);
  const r = await fetch(`${base}/healthz`);
  assert.equal(r.status, 200);
});

test('WebSocket subscribe and publish round trip', async () => {
  const a = await openWs();
  const b = await openWs();
  try {
    a.send(JSON.stringify({ op: 'subscribe', topic: 'patient/p1/vitals' }));
    const ok = await nextMessage(a, (m) => m.op === 'ok');
    assert.equal(ok.req, 'subscribe');
    const data = { hr_bpm: 72, spo2: 0.98, note: 'résumé' };
    b.send(JSON.stringify({ op: 'publish', topic: 'patient/p1/vitals', data }));
    const got = await nextMessage(a, (m) => m.topic !== undefined && m.op === undefined);
    assert.deepEqual(got, { topic: 'patient/p1/vitals', data });
    const ack = await nextMessage(b, (m) => m.op === 'ok');
    assert.equal(ack.delivered, 1);
    b.send(JSON.stringify({ op: 'subscribe', topic: 'bad topic!' }));
    const err = await nextMessage(b, (m) => m.op === 'error');
    assert.equal(err.error, 'MV_EINVAL');
    b.send('not json');
    assert.equal((await nextMessage(b, (m) => m.op === 'error')).error, 'MV_EPARSE');
    assert.ok(await metric('mv_ws_messages_in_total') >= 4);
    assert.ok(await metric('mv_ws_connections') >= 2);
  } finally {
    a.close();
    b.close();
  }
});

test('a slow consumer is dropped and memory stays bounded', async () => {
  const slow = await openWs();
  const pub = await openWs();
  slow.send(JSON.stringify({ op: 'subscribe', topic: 'slow/feed' }));
  await nextMessage(slow, (m) => m.op === 'ok');
  slow._socket.pause(); // never read again
  const closed = new Promise((resolve) => slow.once('close', (code) => resolve(code)));
  const before = rss(proc.pid);
  const chunk = 'x'.repeat(256 * 1024);
  let acks = 0;
  pub.on('message', () => { acks++; });
  for (let i = 0; i < 200; i++) {
    pub.send(JSON.stringify({ op: 'publish', topic: 'slow/feed', data: { i, chunk } }));
  }
  const deadline = Date.now() + 20000;
  while (acks < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(acks, 200, 'the publisher got every ack');
  let dropped = 0;
  while (Date.now() < deadline) {
    dropped = await metric('mv_ws_dropped_consumers_total');
    if (dropped >= 1) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(dropped >= 1, 'the slow consumer was dropped');
  // 200 x 256 KiB = 50 MiB went through; a queue per consumer would hold it.
  const grew = rss(proc.pid) - before;
  assert.ok(grew < 40 * 1024 * 1024, `server grew by ${grew} bytes`);
  slow._socket.resume();
  await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
  pub.close();
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
});

test('SIGTERM shuts down gracefully within 5 s', async () => {
  const ws = await openWs();
  const wsClosed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  const t0 = Date.now();
  proc.removeAllListeners('exit'); // the "exited early" guard of startServer
  const exited = new Promise((resolve) => proc.once('exit', (code, sig) => resolve({ code, sig })));
  proc.kill('SIGTERM');
  const { code, sig } = await exited;
  assert.equal(sig, null);
  assert.equal(code, 0, stderr);
  assert.ok(Date.now() - t0 < 5000, 'shutdown took too long');
  assert.equal(await wsClosed, 1001);
});
