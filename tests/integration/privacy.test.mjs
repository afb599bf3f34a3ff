// SPDX-License-Identifier: Apache-2.0
// "No patient data in logs": run the demo at debug level (JSON logs too),
// send requests whose paths, query strings, headers, bodies and WebSocket
// messages carry marker strings, and check that no marker and no simulated
// patient's name or id ever reaches the log. Also checks every JSON log line
// parses and that error bodies do not echo request bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { start } from './helpers.mjs';

const MARK = 'ZZSECRET';

for (const json of [false, true]) {
  test(`logs carry no patient data (log-json=${json})`, async (t) => {
    const s = await start('demo', ['--log-level', 'debug', `--log-json=${json}`,
      '--demo-patients', '3', '--demo-interval-ms', '50', '--http-body-max', '2048']);
    t.after(() => s.proc.kill('SIGKILL'));
    const patients = await (await fetch(`${s.url}/api/demo/patients?name=${MARK}q`)).json();
    await (await fetch(`${s.url}/no/such/${MARK}p?x=${MARK}q`, { headers: { 'x-note': `${MARK}h` } })).text();
    const bad = await fetch(`${s.url}/healthz`, { method: 'POST', body: `{"name":"${MARK}b",}` });
    const badBody = await bad.text();
    assert.ok(!badBody.includes(`${MARK}b`), 'error body does not echo the request body');
    await (await fetch(`${s.url}/x`, { method: 'POST', body: `${MARK}big`.repeat(1000) })).text();
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/ws`);
    await new Promise((r, j) => { ws.on('open', r); ws.on('error', j); });
    ws.send(JSON.stringify({ op: 'publish', topic: 'chat/room', data: { text: `${MARK}w` } }));
    ws.send(`not json ${MARK}j`);
    ws.send(JSON.stringify({ op: 'subscribe', topic: `bad topic ${MARK}t` }));
    await new Promise((r) => setTimeout(r, 400));
    ws.close();
    const r = await s.stop();
    assert.equal(r.code, 0);
    const log = s.stderr();
    assert.ok(log.length > 0, 'something was logged at debug level');
    assert.ok(!log.includes(MARK), `a marker reached the log:\n${log.split('\n').filter((l) => l.includes(MARK)).join('\n')}`);
    for (const p of patients) {
      assert.ok(!log.includes(p.name), 'a patient name reached the log');
      assert.ok(!log.includes(p.id), 'a patient id reached the log');
    }
    if (json) {
      for (const line of log.trim().split('\n')) {
        const o = JSON.parse(line);
        assert.ok(o.ts && o.level && o.component && typeof o.msg === 'string');
      }
    }
  });
}
