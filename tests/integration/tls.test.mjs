// SPDX-License-Identifier: Apache-2.0
// TLS: with --tls-cert and --tls-key the server speaks HTTPS and WSS only,
// with a certificate made here by the openssl command; clients that trust
// it connect, and configuration mistakes are reported before listening.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import WebSocket from 'ws';
import { run, start, tempDir } from './helpers.mjs';

function makeCert(dir) {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { key, cert, ca: readFileSync(cert) };
}

function get(url, ca) {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

test('HTTPS and WSS with a configured certificate', async (t) => {
  const dir = tempDir('mv-tls-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { key, cert, ca } = makeCert(dir);
  const s = await start('serve', ['--tls-cert', cert, '--tls-key', key]);
  t.after(() => s.proc.kill('SIGKILL'));
  assert.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/);

  const r = await get(`${s.url}/healthz`, ca);
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
  // a client that does not trust the certificate refuses it
  await assert.rejects(get(`${s.url}/healthz`, undefined), /self.signed|certificate/i);
  // plain HTTP to the TLS port gets no HTTP answer
  const plain = await fetch(s.url.replace('https', 'http') + '/healthz').then((x) => x.status, () => 'error');
  assert.notEqual(plain, 200);

  const url = `${s.url.replace('https', 'wss')}/ws`;
  const a = new WebSocket(url, { ca });
  const b = new WebSocket(url, { ca });
  await Promise.all([a, b].map((w) => new Promise((res, rej) => { w.on('open', res); w.on('error', rej); })));
  const got = new Promise((res) => a.on('message', (m) => {
    const msg = JSON.parse(m.toString());
    if (msg.topic === 'secure' && msg.data) res(msg);
  }));
  const subscribed = new Promise((res) => a.once('message', res));
  a.send(JSON.stringify({ op: 'subscribe', topic: 'secure' }));
  await subscribed;
  b.send(JSON.stringify({ op: 'publish', topic: 'secure', data: { ok: 1 } }));
  assert.deepEqual((await got).data, { ok: 1 });
  a.close(); b.close();
  const stop = await s.stop();
  assert.equal(stop.code, 0);
});

test('TLS configuration mistakes exit 2 before listening', () => {
  const dir = tempDir('mv-tls-');
  const { key, cert } = makeCert(dir);
  let r = run(['serve', '--listen', '127.0.0.1:0', '--data-dir', dir, '--tls-cert', cert]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /tls-cert and tls-key must be set together/);
  r = run(['serve', '--listen', '127.0.0.1:0', '--data-dir', dir, '--tls-cert', cert, '--tls-key', join(dir, 'missing.pem')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--tls-key: cannot read/);
  // a key that does not match the certificate: the server cannot listen
  const other = makeCert(tempDir('mv-tls-'));
  r = run(['serve', '--listen', '127.0.0.1:0', '--data-dir', dir, '--tls-cert', cert, '--tls-key', other.key]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /cannot listen/);
  assert.doesNotMatch(r.stdout, /listening on/);
  rmSync(dir, { recursive: true, force: true });
  void key;
});
