// SPDX-License-Identifier: Apache-2.0
// The ledger over HTTP (issue 6), checked with an independent verifier
// written here on node:crypto: every write answers X-Ledger-Index; the
// entry's inclusion proof verifies (RFC 9162 §2.1.3.2) against the served
// checkpoint, whose Ed25519 note signature (C2SP signed-note) verifies
// under the log's verifier key; consistency proofs (§2.1.4.2) link
// checkpoints; only auditors and admins read the log; bad parameters are
// 400 naming the parameter; erasure keeps the log verifiable; witnesses'
// cosignatures (C2SP cosignature/v1) are accepted, checked and served by
// quorum.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startFhir, http, vital, addUser, login } from './fhir_fx.mjs';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { start, run, BIN } from './helpers.mjs';

const sha256 = (...parts) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (leaf) => sha256(Buffer.from([0]), leaf);
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);
const EM = '\u2014 ';

// ---- An independent verifier (no medverse code) --------------------------

function ed25519Public(raw) {
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
  return crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
}

function keyId(name, type, pub) {
  return sha256(Buffer.from(name + '\n'), Buffer.from([type]), pub).subarray(0, 4);
}

// "<name>+<hash>+<base64(type || pub)>"
function parseVkey(text) {
  const t = text.trim();
  const i = t.indexOf('+'), j = t.indexOf('+', i + 1); // base64 may hold '+'
  const name = t.slice(0, i), hash = t.slice(i + 1, j), b64 = t.slice(j + 1);
  const raw = Buffer.from(b64, 'base64');
  const type = raw[0], pub = raw.subarray(1);
  assert.equal(pub.length, 32);
  assert.equal(keyId(name, type, pub).toString('hex'), hash, 'key hash');
  return { name, type, pub, id: keyId(name, type, pub), key: ed25519Public(pub) };
}

// Split a signed note into its text (ending "\n") and signature lines.
function splitNote(note) {
  const at = note.indexOf('\n\n');
  assert.ok(at > 0, 'note has a blank line');
  const text = note.slice(0, at + 1);
  const sigs = note.slice(at + 2).split('\n').filter((l) => l.length).map((l) => {
    assert.ok(l.startsWith(EM), `signature line: ${l}`);
    const [name, b64] = l.slice(EM.length).split(' ');
    const raw = Buffer.from(b64, 'base64');
    return { name, id: raw.subarray(0, 4), rest: raw.subarray(4), line: l };
  });
  return { text, sigs };
}

// Verify the log's signature and parse the checkpoint body.
function openCheckpoint(note, logKey) {
  const { text, sigs } = splitNote(note);
  const s = sigs.find((x) => x.name === logKey.name && x.id.equals(logKey.id));
  assert.ok(s, 'signed by the log key');
  assert.ok(crypto.verify(null, Buffer.from(text), logKey.key, s.rest), 'log signature verifies');
  const lines = text.split('\n');
  assert.equal(lines[0], logKey.name, 'origin is the key name');
  assert.match(lines[1], /^(0|[1-9][0-9]*)$/);
  return { origin: lines[0], size: Number(lines[1]), root: Buffer.from(lines[2], 'base64'), text, sigs };
}

// RFC 9162 §2.1.3.2
function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if ((fn & 1) === 1 || fn === sn) {
      r = nodeHash(p, r);
      while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1; sn >>= 1;
  }
  return sn === 0 && r.equals(root);
}

// RFC 9162 §2.1.4.2
function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  if (first === 0 || first > second) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  let path = proof;
  if ((first & (first - 1)) === 0) path = [firstRoot, ...proof];
  if (path.length === 0) return false;
  let fn = first - 1, sn = second - 1;
  while ((fn & 1) === 1) { fn >>= 1; sn >>= 1; }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if ((fn & 1) === 1 || fn === sn) {
      fr = nodeHash(c, fr); sr = nodeHash(c, sr);
      while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1; sn >>= 1;
  }
  return fr.equals(firstRoot) && sr.equals(secondRoot) && sn === 0;
}

// A witness key (cosignature/v1, type 0x04) and its cosignature line.
function witnessKey(name) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const id = keyId(name, 4, pub);
  const vkey = `${name}+${id.toString('hex')}+${Buffer.concat([Buffer.from([4]), pub]).toString('base64')}`;
  return { name, id, pub, vkey, privateKey, publicKey };
}

function cosign(w, body, t = Math.floor(Date.now() / 1000)) {
  const msg = Buffer.from(`cosignature/v1\ntime ${t}\n${body}`);
  const sig = crypto.sign(null, msg, w.privateKey);
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(t));
  return `${EM}${w.name} ${Buffer.concat([w.id, time, sig]).toString('base64')}\n`;
}

function verifyCosig(w, body, line) {
  const { name, id, rest } = splitNote(`x\n\n${line}`).sigs[0];
  if (name !== w.name || !id.equals(w.id)) return false;
  const t = rest.readBigUInt64BE(0);
  return crypto.verify(null, Buffer.from(`cosignature/v1\ntime ${t}\n${body}`), w.publicKey, rest.subarray(8));
}

// ---- The server -------------------------------------------------------------

const W1 = witnessKey('witness-a.example');
const W2 = witnessKey('witness-b.example');
const STRANGER = witnessKey('stranger.example');
let S, logKey;

before(async () => {
  S = await startFhir(['--ledger-witness', `${W1.vkey},${W2.vkey}`]);
  const k = await http(S.base, 'GET', '/ledger/key');
  assert.equal(k.status, 200);
  logKey = parseVkey(k.text);
  assert.equal(logKey.type, 1);
});

after(async () => {
  if (!S) return;
  const r = await S.srv.stop();
  assert.equal(r.code, 0, `server exited ${r.code}/${r.signal}:\n${S.srv.stderr()}`);
});

const get = (path, tok = S.tok.auditor) => http(S.base, 'GET', path, { token: tok });

async function checkpoint() {
  const r = await get('/ledger/checkpoint');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  return openCheckpoint(r.text, logKey);
}

async function leafAt(i) {
  const r = await get(`/ledger/entries?start=${i}&end=${i + 1}`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.length, 1);
  assert.equal(r.json[0].index, i);
  return Buffer.from(r.json[0].leaf, 'base64');
}

async function assertIncluded(i, cp) {
  const leaf = await leafAt(i);
  const r = await get(`/ledger/proof/inclusion?index=${i}&size=${cp.size}`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.index, i);
  assert.equal(r.json.size, cp.size);
  const proof = r.json.hashes.map((h) => Buffer.from(h, 'base64'));
  assert.ok(verifyInclusion(i, cp.size, leafHash(leaf), proof, cp.root), `inclusion of ${i} in ${cp.size}`);
  // a tampered proof or leaf must not verify
  assert.ok(!verifyInclusion(i, cp.size, leafHash(Buffer.concat([leaf, Buffer.from([0])])), proof, cp.root));
  if (proof.length) {
    const bad = proof.map((h) => Buffer.from(h));
    bad[0][0] ^= 1;
    assert.ok(!verifyInclusion(i, cp.size, leafHash(leaf), bad, cp.root));
  }
  return leaf;
}

function ledgerIndex(r) {
  const v = r.headers.get('x-ledger-index');
  assert.match(v ?? '', /^[0-9]+$/, `X-Ledger-Index on ${r.status}`);
  return Number(v);
}

test('every write answers X-Ledger-Index, included in the signed checkpoint', async () => {
  const p = await http(S.base, 'POST', '/fhir/Patient', { token: S.tok.admin, body: { resourceType: 'Patient', gender: 'female' } });
  assert.equal(p.status, 201, p.text);
  const o = await http(S.base, 'POST', '/fhir/Observation', { token: S.tok.doc1, body: vital('pat-a', '8867-4', 72, '/min') });
  assert.equal(o.status, 201, o.text);
  const body = { ...o.json };
  delete body.meta;
  body.valueQuantity = { ...body.valueQuantity, value: 73 };
  const u = await http(S.base, 'PUT', `/fhir/Observation/${o.json.id}`, { token: S.tok.doc1, body });
  assert.equal(u.status, 200, u.text);
  const d = await http(S.base, 'DELETE', `/fhir/Observation/${o.json.id}`, { token: S.tok.doc1 });
  assert.equal(d.status, 204, d.text);
  const idx = [p, o, u, d].map(ledgerIndex);
  assert.ok(idx[1] > idx[0] && idx[2] > idx[1] && idx[3] > idx[2], `increasing: ${idx}`);
  const cp = await checkpoint();
  assert.ok(cp.size > idx[3]);
  for (const [k, i] of idx.entries()) {
    const leaf = await assertIncluded(i, cp);
    // the leaf names the resource (opaque ids) and never its content
    const id = k === 0 ? p.json.id : o.json.id;
    assert.ok(leaf.includes(Buffer.from(id)), 'leaf names the id');
    assert.ok(!leaf.includes(Buffer.from('female')), 'no content in the leaf');
  }
  // the doctor's writes name the doctor
  assert.ok((await leafAt(idx[1])).includes(Buffer.from('Practitioner/prac-doc1')));
});

test('transactions and batches carry each entry\'s index', async () => {
  const bundle = {
    resourceType: 'Bundle', type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111', resource: vital('pat-a', '8867-4', 60, '/min'), request: { method: 'POST', url: 'Observation' } },
      { fullUrl: 'urn:uuid:22222222-2222-4222-8222-222222222222', resource: vital('pat-a', '59408-5', 97, '%'), request: { method: 'POST', url: 'Observation' } },
    ],
  };
  const r = await http(S.base, 'POST', '/fhir', { token: S.tok.admin, body: bundle });
  assert.equal(r.status, 200, r.text);
  const first = ledgerIndex(r);
  const per = r.json.entry.map((e) => Number(e.response.extension.find((x) => x.url.endsWith('/ledger-index')).valueString));
  assert.equal(per[0], first);
  assert.ok(per[1] > per[0]);
  const cp = await checkpoint();
  for (const i of per) await assertIncluded(i, cp);
});

test('consistency proofs link checkpoints', async () => {
  const a = await checkpoint();
  for (let i = 0; i < 3; i++) {
    const o = await http(S.base, 'POST', '/fhir/Observation', { token: S.tok.admin, body: vital('pat-a', '8867-4', 80 + i, '/min') });
    assert.equal(o.status, 201);
  }
  const b = await checkpoint();
  assert.ok(b.size > a.size);
  const r = await get(`/ledger/proof/consistency?from=${a.size}&to=${b.size}`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.from, r.json.to], [a.size, b.size]);
  const proof = r.json.hashes.map((h) => Buffer.from(h, 'base64'));
  assert.ok(verifyConsistency(a.size, b.size, a.root, b.root, proof), 'consistent');
  const wrongRoot = Buffer.from(a.root);
  wrongRoot[31] ^= 0x80;
  assert.ok(!verifyConsistency(a.size, b.size, wrongRoot, b.root, proof), 'a forked old root is caught');
  // every smaller size too
  for (let m = 1; m <= b.size; m += Math.max(1, Math.floor(b.size / 7))) {
    const c = await get(`/ledger/proof/consistency?from=${m}&to=${b.size}`);
    assert.equal(c.status, 200, c.text);
  }
  const same = await get(`/ledger/proof/consistency?from=${b.size}&to=${b.size}`);
  assert.deepEqual(same.json.hashes, []);
});

test('only auditors and admins read the ledger', async () => {
  const paths = ['/ledger/checkpoint', '/ledger/entries?start=0&end=1',
    '/ledger/proof/inclusion?index=0&size=1', '/ledger/proof/consistency?from=1&to=1'];
  const want = { none: 401, patient: 403, doc1: 403, doc2: 403, device: 403, auditor: 200, admin: 200 };
  for (const path of paths) {
    for (const [who, status] of Object.entries(want)) {
      const r = await http(S.base, 'GET', path, { token: who === 'none' ? undefined : S.tok[who] });
      assert.equal(r.status, status, `${who} ${path}: ${r.text}`);
    }
  }
  // the verifier key is public
  assert.equal((await http(S.base, 'GET', '/ledger/key')).status, 200);
});

test('bad parameters are 400 and name the parameter', async () => {
  const cp = await checkpoint();
  const cases = [
    ['/ledger/entries?end=3', 'start'],
    ['/ledger/entries?start=0', 'end'],
    ['/ledger/entries?start=abc&end=3', 'start'],
    ['/ledger/entries?start=-1&end=3', 'start'],
    ['/ledger/entries?start=5&end=2', 'end'],
    [`/ledger/entries?start=${cp.size + 5}&end=${cp.size + 9}`, 'start'],
    ['/ledger/entries?start=99999999999999999999&end=1', 'start'],
    [`/ledger/proof/inclusion?index=${cp.size}&size=${cp.size}`, 'index'],
    [`/ledger/proof/inclusion?index=0&size=${cp.size + 100}`, 'size'],
    ['/ledger/proof/inclusion?index=0', 'size'],
    ['/ledger/proof/inclusion?index=1.5&size=3', 'index'],
    ['/ledger/proof/consistency?from=0&to=1', 'from'],
    ['/ledger/proof/consistency?from=3&to=2', 'from'],
    [`/ledger/proof/consistency?from=1&to=${cp.size + 1}`, 'to'],
  ];
  for (const [path, param] of cases) {
    const r = await get(path);
    assert.equal(r.status, 400, `${path}: ${r.status} ${r.text}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.deepEqual(r.json.issue[0].expression, [param], path);
  }
  // a range is capped, not refused: entries past the end are left out
  const r = await get(`/ledger/entries?start=0&end=${cp.size + 10}`);
  assert.equal(r.status, 200);
  assert.ok(r.json.length >= cp.size);
});

test('erasure keeps the log verifiable', async () => {
  const p = await http(S.base, 'POST', '/fhir/Patient', { token: S.tok.admin, body: { resourceType: 'Patient', gender: 'male' } });
  const pid = p.json.id;
  const o = await http(S.base, 'POST', '/fhir/Observation', { token: S.tok.admin, body: vital(pid, '8867-4', 90, '/min') });
  assert.equal(o.status, 201);
  const before = [ledgerIndex(p), ledgerIndex(o)];
  const leaves = [];
  for (const i of before) leaves.push(await leafAt(i));
  const e = await http(S.base, 'POST', `/fhir/Patient/${pid}/$erase`, {
    token: S.tok.admin,
    body: { resourceType: 'Parameters', parameter: [{ name: 'confirm', valueString: pid }] },
  });
  assert.equal(e.status, 200, e.text);
  const ei = ledgerIndex(e);
  assert.ok(ei > before[1]);
  assert.equal((await http(S.base, 'GET', `/fhir/Observation/${o.json.id}`, { token: S.tok.admin })).status, 410);
  const cp = await checkpoint();
  // the erased versions' entries stay, unchanged, and still prove
  for (const [k, i] of before.entries()) {
    const leaf = await assertIncluded(i, cp);
    assert.ok(leaf.equals(leaves[k]));
  }
  const eleaf = await assertIncluded(ei, cp);
  assert.ok(eleaf.includes(Buffer.from(pid)), 'the erasure names the patient id');
});

// The checkpoint once no write has landed for a moment (reads queue their
// AuditEvents without waiting, and each one grows the log).
async function quietCheckpoint() {
  let cp = await checkpoint();
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const again = await checkpoint();
    if (again.size === cp.size) return cp;
    cp = again;
  }
  throw new Error('the log never went quiet');
}

test('witness cosignatures are checked and served', async () => {
  const cp = await quietCheckpoint();
  const post = (body) => http(S.base, 'POST', '/ledger/cosignature', { body, raw: true, headers: { 'content-type': 'text/plain' } });
  const signed = `${cp.text}\n${cp.sigs.map((s) => s.line + '\n').join('')}`;
  // a valid cosignature by a configured witness
  const ok = await post(signed + cosign(W1, cp.text));
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json, { size: cp.size, accepted: 1 });
  // served with the checkpoint, verifiable by anyone
  const again = await get('/ledger/checkpoint');
  const n = openCheckpoint(again.text, logKey);
  assert.equal(n.size, cp.size);
  const wl = n.sigs.find((s) => s.name === W1.name);
  assert.ok(wl && verifyCosig(W1, cp.text, wl.line + '\n'), 'cosignature served');
  // an unknown witness, a forged cosignature, an altered checkpoint
  assert.equal((await post(signed + cosign(STRANGER, cp.text))).status, 400);
  const forged = cosign(W2, cp.text).replace(/.{6}\n$/, 'AAAAAA\n');
  assert.equal((await post(signed + forged)).status, 400);
  const altered = signed.replace(`\n${cp.size}\n`, `\n${cp.size + 1}\n`);
  assert.equal((await post(altered + cosign(W2, altered.split('\n\n')[0] + '\n'))).status, 400);
  assert.equal((await post('')).status, 400);
  assert.equal((await post('garbage\n')).status, 400);
  // mutated notes: a clear answer every time, never a crash, and a
  // mutation is accepted only when it left the cosignature intact
  const good = Buffer.from(signed + cosign(W2, cp.text));
  for (let i = 0; i < 150; i++) {
    const m = Buffer.from(good);
    const at = (i * 7919) % m.length;
    m[at] = i % 3 === 0 ? 0 : m[at] ^ (1 << (i % 8));
    const r = await post(m.toString('latin1'));
    assert.ok([200, 400, 404, 409].includes(r.status), `mutation ${i} at ${at}: ${r.status} ${r.text}`);
  }
});

test('a quorum of witnesses gates the served checkpoint', async () => {
  const Q = await start('serve', ['--ledger-witness', W1.vkey, '--ledger-witness-quorum', '1']);
  try {
    addUser(Q.dataDir, 'aud', 'auditor');
    addUser(Q.dataDir, 'adm', 'admin');
    const aud = await login(Q.url, 'aud');
    const adm = await login(Q.url, 'adm');
    const w = await http(Q.url, 'POST', '/fhir/Patient', { token: adm, body: { resourceType: 'Patient' } });
    assert.equal(w.status, 201);
    const kr = await http(Q.url, 'GET', '/ledger/key');
    assert.equal(kr.status, 200, kr.text);
    const k = parseVkey(kr.text);
    const none = await http(Q.url, 'GET', '/ledger/checkpoint', { token: aud });
    assert.equal(none.status, 404, none.text);
    // a witness fetches the newest checkpoint and cosigns it
    const latest = await http(Q.url, 'GET', '/ledger/checkpoint?latest=1', { token: aud });
    assert.equal(latest.status, 200, latest.text);
    const cp = openCheckpoint(latest.text, k);
    assert.ok(cp.size > ledgerIndex(w));
    assert.ok(cp.root.equals(await rootOf(Q.url, aud, cp.size)), 'root recomputed from the leaves');
    const bad = await http(Q.url, 'GET', '/ledger/checkpoint?latest=maybe', { token: aud });
    assert.equal(bad.status, 400);
    const post = await http(Q.url, 'POST', '/ledger/cosignature', {
      body: latest.text + cosign(W1, cp.text), raw: true, headers: { 'content-type': 'text/plain' },
    });
    assert.equal(post.status, 200, post.text);
    const served = await http(Q.url, 'GET', '/ledger/checkpoint', { token: aud });
    assert.equal(served.status, 200, served.text);
    const got = openCheckpoint(served.text, k);
    assert.equal(got.size, cp.size);
    const wl = got.sigs.find((s) => s.name === W1.name);
    assert.ok(wl && verifyCosig(W1, got.text, wl.line + '\n'));
    // the log grows; the served checkpoint stays the cosigned one
    await http(Q.url, 'POST', '/fhir/Patient', { token: adm, body: { resourceType: 'Patient' } });
    const still = openCheckpoint((await http(Q.url, 'GET', '/ledger/checkpoint', { token: aud })).text, k);
    assert.equal(still.size, cp.size);
    const newer = openCheckpoint((await http(Q.url, 'GET', '/ledger/checkpoint?latest=1', { token: aud })).text, k);
    assert.ok(newer.size > cp.size);
    // W1 is removed from the configuration: its cosignature stops counting
    Q.proc.kill('SIGTERM');
    assert.equal((await Q.exited).code, 0, Q.stderr());
    const R = await serveOn(Q.dataDir, ['--ledger-witness', W2.vkey, '--ledger-witness-quorum', '1']);
    try {
      const aud2 = await login(R.url, 'aud');
      const gone = await http(R.url, 'GET', '/ledger/checkpoint', { token: aud2 });
      assert.equal(gone.status, 404, gone.text);
      const plain = await http(R.url, 'GET', '/ledger/checkpoint?latest=1', { token: aud2 });
      assert.ok(!plain.text.includes(W1.name), 'a removed witness is not served');
    } finally {
      R.proc.kill('SIGTERM');
      assert.equal((await R.exited).code, 0, R.stderr());
    }
  } finally {
    const r = await Q.stop();
    assert.equal(r.code ?? 0, 0, Q.stderr());
  }
});

// The root of the first `size` leaves (RFC 9162 §2.1.1 MTH), recomputed
// from the served leaves.
async function rootOf(base, tok, size) {
  const r = await http(base, 'GET', `/ledger/entries?start=0&end=${size}`, { token: tok });
  assert.equal(r.json.length, size);
  const mth = (hs) => {
    if (hs.length === 1) return hs[0];
    let k = 1;
    while (k * 2 < hs.length) k *= 2;
    return nodeHash(mth(hs.slice(0, k)), mth(hs.slice(k)));
  };
  return mth(r.json.map((e) => leafHash(Buffer.from(e.leaf, 'base64'))));
}

function serveOn(dataDir, args = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^listening on (http:\/\/\S+)$/m);
      if (m) resolve({ proc, url: m[1], exited, stderr: () => err });
    });
    proc.stderr.on('data', (d) => { err += d; });
    exited.then(({ code }) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

test('SIGKILL loses no acknowledged ledger entry', async () => {
  const A = await start('serve');
  const dir = A.dataDir;
  try {
    addUser(dir, 'adm', 'admin');
    addUser(dir, 'aud', 'auditor');
    const adm = await login(A.url, 'adm');
    const acked = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        try {
          const r = await http(A.url, 'POST', '/fhir/Patient', { token: adm, body: { resourceType: 'Patient' } });
          if (r.status === 201) acked.push([ledgerIndex(r), r.json.id]);
        } catch { /* the server went away */ }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    while (acked.length < 150) await new Promise((r) => setTimeout(r, 20));
    A.proc.kill('SIGKILL');
    stop = true;
    await Promise.allSettled(workers);
    await A.exited;
    const B = await serveOn(dir);
    try {
      const aud = await login(B.url, 'aud');
      const cpr = await http(B.url, 'GET', '/ledger/checkpoint', { token: aud });
      assert.equal(cpr.status, 200, cpr.text);
      const k = parseVkey((await http(B.url, 'GET', '/ledger/key')).text);
      const cp = openCheckpoint(cpr.text, k);
      assert.ok(cp.root.equals(await rootOfPaged(B.url, aud, cp.size)), 'root recomputed from every leaf');
      for (const [i, id] of acked) {
        assert.ok(i < cp.size, `acknowledged entry ${i} is in the log of size ${cp.size}`);
        const e = await http(B.url, 'GET', `/ledger/entries?start=${i}&end=${i + 1}`, { token: aud });
        assert.ok(Buffer.from(e.json[0].leaf, 'base64').includes(Buffer.from(id)), `entry ${i} names ${id}`);
      }
      console.log(`# ${acked.length} acknowledged creates, log size ${cp.size} after SIGKILL and restart`);
    } finally {
      B.proc.kill('SIGTERM');
      const r = await B.exited;
      assert.equal(r.code, 0, B.stderr());
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad witness configuration stops the server with exit 2', () => {
  const cases = [
    [['--ledger-witness', 'not-a-key'], /ledger-witness: key 1/],
    [['--ledger-witness', logKeyLike()], /not a cosignature\/v1/],
    [['--ledger-witness', W1.vkey, '--ledger-witness-quorum', '2'], /exceeds/],
    [['--ledger-witness-quorum', '17'], /ledger-witness-quorum/],
  ];
  for (const [args, re] of cases) {
    const r = run(['serve', '--listen', '127.0.0.1:0', '--data-dir', `/tmp/mv-ledger-badcfg-${process.pid}`, ...args]);
    rmSync(`/tmp/mv-ledger-badcfg-${process.pid}`, { recursive: true, force: true });
    assert.equal(r.status, 2, `${args}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

// A type 0x01 (note signer) verifier key: valid, but not a witness key.
function logKeyLike() {
  const { publicKey } = crypto.generateKeyPairSync('ed25519');
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const name = 'some-log.example';
  return `${name}+${keyId(name, 1, pub).toString('hex')}+${Buffer.concat([Buffer.from([1]), pub]).toString('base64')}`;
}

async function rootOfPaged(base, tok, size) {
  const hs = [];
  while (hs.length < size) {
    const r = await http(base, 'GET', `/ledger/entries?start=${hs.length}&end=${size}`, { token: tok });
    assert.equal(r.status, 200);
    assert.ok(r.json.length > 0);
    for (const e of r.json) hs.push(leafHash(Buffer.from(e.leaf, 'base64')));
  }
  const mth = (a, lo, n) => {
    if (n === 1) return a[lo];
    let k = 1;
    while (k * 2 < n) k *= 2;
    return nodeHash(mth(a, lo, k), mth(a, lo + k, n - k));
  };
  return mth(hs, 0, size);
}
