// SPDX-License-Identifier: Apache-2.0
// `medverse ledger verify|prove|export|witness|keygen` against real server
// data directories: an intact directory (FHIR writes through the API,
// updates, a delete, reads, an $erase) verifies; each kind of tampering
// (a record's ciphertext, a leaf in the log files, a checkpoint's signature
// or root, truncation, reordering, a fork) is detected and names the right
// entry; prove and export output verify independently with node:crypto;
// a witness cosigns a growing log, keeps its state across restarts, and
// refuses a rollback, a fork and a checkpoint signed by another key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { cpSync, readFileSync, rmSync, writeFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, SRC, run, tempDir } from './helpers.mjs';
import { addUser, http, login, vital } from './fhir_fx.mjs';

const sha = (...p) => createHash('sha256').update(Buffer.concat(p)).digest();
const leafHash = (d) => sha(Buffer.from([0]), d);
const nodeHash = (l, r) => sha(Buffer.from([1]), l, r);
const HAVE_SQLITE = spawnSync('sqlite3', ['-version']).status === 0;

function sql(db, q) {
  const r = spawnSync('sqlite3', [db, q], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
  return r.stdout.trim();
}

// ---- independent RFC 9162 and C2SP checks (node:crypto only) ----

// RFC 9162 §2.1.3.2: the root an inclusion proof implies.
function rootFromInclusion(index, size, lh, hashes) {
  let fn = index, sn = size - 1, r = lh;
  for (const p of hashes) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else r = nodeHash(r, p);
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

function parseVkey(vkey) {
  const [name, id, ...rest] = vkey.trim().split('+'); // base64 may hold '+'
  const raw = Buffer.from(rest.join('+'), 'base64');
  assert.equal(raw.length, 33);
  assert.equal(sha(Buffer.from(name + '\n'), raw).subarray(0, 4).toString('hex'), id);
  const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw.subarray(1)]), format: 'der', type: 'spki' });
  return { name, id: Buffer.from(id, 'hex'), key, type: raw[0] };
}

// Verify the log's signature on a signed checkpoint note; returns the body.
function openCheckpoint(note, vk) {
  const split = note.lastIndexOf('\n\n');
  const body = note.slice(0, split + 1);
  const sigs = note.slice(split + 2).split('\n').filter(Boolean);
  const mine = sigs.map((l) => l.match(/^\u2014 (\S+) (\S+)$/)).filter((m) => m && m[1] === vk.name)
    .map((m) => Buffer.from(m[2], 'base64')).filter((s) => s.length === 68 && s.subarray(0, 4).equals(vk.id));
  assert.ok(mine.some((s) => verify(null, Buffer.from(body), vk.key, s.subarray(4))), 'log signature verifies');
  const [origin, size, root] = body.split('\n');
  assert.equal(origin, vk.name);
  return { body, origin, size: Number(size), root: Buffer.from(root, 'base64'), sigs };
}

// Sign a note body with the log's private key file (Go note format), as an
// insider holding the key could: PRIVATE+KEY+name+id+base64(0x01 || seed).
function signNote(body, keyFile) {
  const [, , name, id, ...rest] = readFileSync(keyFile, 'utf8').trim().split('+');
  const seed = Buffer.from(rest.join('+'), 'base64').subarray(1);
  const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const sig = Buffer.concat([Buffer.from(id, 'hex'), sign(null, Buffer.from(body), key)]);
  return `${body}\n\u2014 ${name} ${sig.toString('base64')}\n`;
}

// ---- servers on a given data directory ----

function serve(dataDir, args = []) {
  const proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => proc.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`not ready\n${err}`)); }, 20000);
    proc.stdout.on('data', () => {
      const m = out.match(/^listening on (\S+)$/m);
      if (m) { clearTimeout(t); resolve({ proc, url: m[1], dataDir, stop: async () => { proc.kill('SIGTERM'); await exited; }, err: () => err }); }
    });
    exited.then((c) => { clearTimeout(t); reject(new Error(`server exited ${c}\n${err}`)); });
  });
}

const tmpRoot = tempDir('mv-ledcli-');
let n = 0;
const copyDir = (from) => { const d = join(tmpRoot, `copy${n++}`); cpSync(from, d, { recursive: true }); return d; };
const verifyDir = (dir, extra = []) => run(['ledger', 'verify', dir, ...extra]);

const S = {}; // the main log: data dir, tokens, witness key
let grown = 0;

async function grow(srv, tok, k, tag = 'a') {
  for (let i = 0; i < k; i++) {
    const r = await http(srv.url, 'POST', '/fhir/Observation', { token: tok.doc1, body: vital('pat-a', '8867-4', 60 + ((grown++) % 50), '/min') });
    assert.equal(r.status, 201, r.text);
    assert.match(r.headers.get('x-ledger-index') ?? '', /^\d+$/, `${tag}: X-Ledger-Index`);
  }
}

before(async () => {
  S.dir = join(tmpRoot, 'main');
  // The witness key first: the log must be configured to accept it.
  S.wkey = join(tmpRoot, 'witness.key');
  const kg = run(['ledger', 'keygen', '--name', 'witness.hospital-b.example', '--out', S.wkey]);
  assert.equal(kg.status, 0, kg.stderr);
  S.wvkey = kg.stdout.trim();
  S.srvArgs = ['--ledger-witness', S.wvkey];
  S.srv = await serve(S.dir, S.srvArgs);
  addUser(S.dir, 'admin1', 'admin');
  addUser(S.dir, 'audit1', 'auditor');
  addUser(S.dir, 'doc1', 'clinician', ['--fhir-id', 'prac-doc1']);
  addUser(S.dir, 'pat1', 'patient', ['--fhir-id', 'pat-a']);
  S.tok = {};
  for (const [k, u] of [['admin', 'admin1'], ['auditor', 'audit1'], ['doc1', 'doc1'], ['patient', 'pat1']]) S.tok[k] = await login(S.srv.url, u);
  const ct = await http(S.srv.url, 'POST', '/fhir/CareTeam', { token: S.tok.admin, body: {
    resourceType: 'CareTeam', status: 'active', subject: { reference: 'Patient/pat-a' },
    participant: [{ member: { reference: 'Practitioner/prac-doc1' } }] } });
  assert.equal(ct.status, 201, ct.text);
  await grow(S.srv, S.tok, 6);
  // an update, a delete, reads (AuditEvents) and an erasure
  const o = await http(S.srv.url, 'POST', '/fhir/Observation', { token: S.tok.doc1, body: vital('pat-a', '8310-5', 37.2, 'Cel') });
  assert.equal(o.status, 201);
  const upd = await http(S.srv.url, 'PUT', `/fhir/Observation/${o.json.id}`, { token: S.tok.doc1, body: { ...vital('pat-a', '8310-5', 37.4, 'Cel'), id: o.json.id } });
  assert.equal(upd.status, 200, upd.text);
  const del = await http(S.srv.url, 'DELETE', `/fhir/Observation/${o.json.id}`, { token: S.tok.doc1 });
  assert.ok(del.status === 200 || del.status === 204, del.text);
  assert.equal((await http(S.srv.url, 'GET', '/fhir/Patient/pat-a', { token: S.tok.doc1 })).status, 200);
  const p = await http(S.srv.url, 'POST', '/fhir/Patient', { token: S.tok.admin, body: { resourceType: 'Patient', name: [{ family: 'Erasable' }] } });
  assert.equal(p.status, 201);
  assert.equal((await http(S.srv.url, 'POST', '/fhir/Observation', { token: S.tok.admin, body: vital(p.json.id, '8867-4', 90, '/min') })).status, 201);
  const e = await http(S.srv.url, 'POST', `/fhir/Patient/${p.json.id}/$erase`, { token: S.tok.admin,
    body: { resourceType: 'Parameters', parameter: [{ name: 'confirm', valueString: p.json.id }] } });
  assert.equal(e.status, 200, e.text);
  S.tokenFile = join(tmpRoot, 'auditor.token');
  writeFileSync(S.tokenFile, S.tok.auditor + '\n', { mode: 0o600 });
  S.vk = parseVkey(readFileSync(join(S.dir, 'ledger', 'ledger.vkey'), 'utf8'));
});

after(async () => {
  if (S.srv) await S.srv.stop().catch(() => {});
  rmSync(tmpRoot, { recursive: true, force: true });
});

test('verify passes on an intact directory while the server runs, with erased records counted', () => {
  const r = verifyDir(S.dir);
  assert.equal(r.status, 0, r.stderr);
  const m = r.stdout.match(/^ledger ok: (\d+) entries, (\d+) checkpoints .*?(\d+) record versions checked \((\d+) erased/);
  assert.ok(m, r.stdout);
  assert.ok(Number(m[1]) >= 10);
  assert.ok(Number(m[2]) >= 1);
  assert.ok(Number(m[4]) >= 2, 'the erased patient and observation are counted');
  assert.equal(r.stdout.trim().split('\n').length, 1, 'one line');
});

function runAsync(args) {
  return new Promise((resolve) => {
    const p = spawn(BIN, args);
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; }); p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (status) => resolve({ status, stdout: out, stderr: err }));
  });
}

test('verify passes while the server is busy writing (log files may lag the database)', async () => {
  let writing = true, written = 0;
  const writer = (async () => {
    while (writing) {
      await Promise.all([0, 1, 2, 3].map(() => http(S.srv.url, 'POST', '/fhir/Observation',
        { token: S.tok.doc1, body: vital('pat-a', '8867-4', 70, '/min') }).then((r) => { assert.equal(r.status, 201); written++; })));
    }
  })();
  try {
    for (let i = 0; i < 6; i++) {
      const r = await runAsync(['ledger', 'verify', S.dir]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^ledger ok: /);
    }
  } finally {
    writing = false;
    await writer;
  }
  assert.ok(written > 0);
});

test('usage errors exit 2 and name the flag or argument', () => {
  for (const [args, re] of [
    [['ledger', 'verify'], /missing argument/],
    [['ledger', 'verify', '/nonexistent-dir-xyz'], /not a directory/],
    [['ledger', 'verify', tmpRoot], /not a medverse data directory/],
    [['ledger', 'export', tmpRoot], /not a medverse data directory/],
    [['ledger', 'prove', S.dir], /--index: required/],
    [['ledger', 'prove', '--index', '-1', S.dir], /--index/],
    [['ledger', 'prove', '--index', '99999999', S.dir], /--index: .*not covered/],
    [['ledger', 'export', S.dir, '--start', '5', '--end', '2'], /--start/],
    [['ledger', 'export', S.dir, '--end', '99999999'], /--end/],
    [['ledger', 'witness', '--key', S.wkey, '--state', tmpRoot], /--log: required/],
    [['ledger', 'witness', '--log', 'ftp://x', '--key', S.wkey, '--state', tmpRoot], /--log/],
    [['ledger', 'witness', '--log', 'http://127.0.0.1:1', '--key', join(S.dir, 'ledger', 'ledger.vkey'), '--state', tmpRoot, '--once'], /--key/],
    [['ledger', 'keygen', '--name', 'x'], /--out: required/],
    [['ledger', 'keygen', '--name', 'bad name', '--out', join(tmpRoot, 'k')], /--name/],
    [['ledger', 'keygen', '--name', 'x', '--out', S.wkey], /exists/],
    [['ledger', 'frobnicate'], /unknown command/],
    [['ledger', 'verify', '--checkpoint', join(tmpRoot, 'none'), S.dir], /--checkpoint/],
    [['ledger', 'verify', '--bogus', S.dir], /--bogus: unknown flag/],
  ]) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
  }
  for (const sub of ['verify', 'prove', 'export', 'witness', 'keygen']) {
    const r = run(['ledger', sub, '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^usage: medverse ledger/);
  }
});

test('keygen writes a 0600 private key and prints a cosignature/v1 verifier key', () => {
  assert.equal(statSync(S.wkey).mode & 0o777, 0o600);
  const [name, id, ...rest] = S.wvkey.split('+');
  assert.equal(name, 'witness.hospital-b.example');
  const raw = Buffer.from(rest.join('+'), 'base64');
  assert.equal(raw[0], 0x04);
  assert.equal(sha(Buffer.from(name + '\n'), raw).subarray(0, 4).toString('hex'), id);
});

test('prove output verifies independently (leaf hash, inclusion proof, signed checkpoint)', () => {
  const size = Number(verifyDir(S.dir).stdout.match(/latest size (\d+)/)[1]);
  for (const index of [0, Math.floor(size / 2), size - 1]) {
    const r = run(['ledger', 'prove', '--index', String(index), S.dir]);
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout);
    assert.equal(p.index, index);
    assert.equal(p.log_key.trim(), readFileSync(join(S.dir, 'ledger', 'ledger.vkey'), 'utf8').trim());
    const leaf = Buffer.from(p.leaf, 'base64');
    assert.equal(leafHash(leaf).toString('base64'), p.leaf_hash);
    const cp = openCheckpoint(p.checkpoint, S.vk);
    assert.equal(cp.size, p.size);
    assert.equal(cp.root.toString('base64'), p.root);
    const root = rootFromInclusion(index, p.size, leafHash(leaf), p.hashes.map((h) => Buffer.from(h, 'base64')));
    assert.ok(root && root.equals(cp.root), `inclusion of ${index} in ${p.size}`);
    // a forged leaf does not verify
    const forged = Buffer.from(leaf); forged[forged.length - 1] ^= 1;
    const bad = rootFromInclusion(index, p.size, leafHash(forged), p.hashes.map((h) => Buffer.from(h, 'base64')));
    assert.ok(!bad || !bad.equals(cp.root));
    assert.equal(p.entry.seq, index);
    assert.match(p.entry.action, /^(create|update|delete|erase|read)$/);
  }
});

test('export verifies with the documented stand-alone script, whole and as a range', () => {
  const script = join(SRC, 'docs', 'ledger-verify-export.mjs');
  const full = join(tmpRoot, 'export.jsonl');
  let r = run(['ledger', 'export', S.dir, '--out', full]);
  assert.equal(r.status, 0, r.stderr);
  const vkey = readFileSync(join(S.dir, 'ledger', 'ledger.vkey'), 'utf8').trim();
  r = spawnSync(process.execPath, [script, full, '--log-key', vkey], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ok: \d+ leaves, \d+ checkpoints/);
  const lines = readFileSync(full, 'utf8').trim().split('\n');
  const size = JSON.parse(lines[0]).size;
  // a range with subtrees on both sides
  const part = join(tmpRoot, 'export-part.jsonl');
  r = run(['ledger', 'export', S.dir, '--out', part, '--start', '3', '--end', String(size - 2)]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(readFileSync(part, 'utf8').includes('"subtree"'));
  r = spawnSync(process.execPath, [script, part, '--log-key', vkey], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // one altered leaf in the export is caught by the independent script
  const i = lines.findIndex((l) => l.startsWith('{"index":4,'));
  const o = JSON.parse(lines[i]); const b = Buffer.from(o.leaf, 'base64'); b[b.length - 1] ^= 1; o.leaf = b.toString('base64');
  const bad = join(tmpRoot, 'export-bad.jsonl');
  writeFileSync(bad, [...lines.slice(0, i), JSON.stringify(o), ...lines.slice(i + 1)].join('\n') + '\n');
  r = spawnSync(process.execPath, [script, bad, '--log-key', vkey], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /root differs/);
  // and a different pinned key is refused
  const other = run(['ledger', 'keygen', '--type', 'log', '--name', S.vk.name, '--out', join(tmpRoot, 'other-log.key')]).stdout.trim();
  r = spawnSync(process.execPath, [script, full, '--log-key', other], { encoding: 'utf8' });
  assert.equal(r.status, 1);
});

// ---- tampering, on copies of the stopped directory ----

const T = {};
async function stopped() {
  if (!T.dir) {
    await S.srv.stop();
    T.dir = copyDir(S.dir);
    S.srv = await serve(S.dir, S.srvArgs); // the main log keeps running for the witness tests
    const r = verifyDir(T.dir);
    assert.equal(r.status, 0, r.stderr);
    T.size = Number(r.stdout.match(/^ledger ok: (\d+) entries/)[1]);
    T.cps = sql(join(T.dir, 'medverse.db'), 'SELECT size FROM ledger_checkpoints ORDER BY size').split('\n').map(Number);
  }
  return copyDir(T.dir);
}

function expectBad(dir, index, re) {
  const r = verifyDir(dir);
  assert.equal(r.status, 1, `expected failure; stdout ${r.stdout} stderr ${r.stderr}`);
  const m = r.stderr.match(/FAILED at entry (\d+): (.*)/);
  assert.ok(m, r.stderr);
  console.log(`verify said: ${m[0]}`);
  if (index !== null) assert.equal(Number(m[1]), index, r.stderr);
  assert.match(m[2], re);
  return m;
}

test('tamper: one byte of a stored record ciphertext', { skip: !HAVE_SQLITE && 'sqlite3 CLI missing' }, async () => {
  const d = await stopped();
  const db = join(d, 'medverse.db');
  const [rowid, idx, hex] = sql(db, "SELECT rowid, ledger_idx, hex(body) FROM resources WHERE type = 'Observation' AND deleted = 0 AND ledger_idx IS NOT NULL ORDER BY ledger_idx LIMIT 1 OFFSET 2").split('|');
  const b = Buffer.from(hex, 'hex'); b[Math.floor(b.length / 2)] ^= 0x01;
  sql(db, `UPDATE resources SET body = X'${b.toString('hex')}' WHERE rowid = ${rowid}`);
  expectBad(d, Number(idx), /ciphertext .* does not match the entry's commitment/);
});

// leaves.dat: 8-byte magic, then records [u32 header][u64 index][data][u32 CRC-32C].
function leafRecords(dat) {
  const recs = []; let off = 8;
  while (off + 16 <= dat.length) {
    const len = dat.readUInt32LE(off) & 0xffffff;
    recs.push({ off, len, index: Number(dat.readBigUInt64LE(off + 4)) });
    off += 16 + len;
  }
  return recs;
}

test('tamper: one byte of a leaf in the log files', async () => {
  const d = await stopped();
  const f = join(d, 'ledger', 'leaves.dat');
  const dat = readFileSync(f);
  const recs = leafRecords(dat);
  assert.equal(recs.length, T.size);
  const k = Math.floor(recs.length / 3);
  dat[recs[k].off + 12 + Math.floor(recs[k].len / 2)] ^= 0x20;
  writeFileSync(f, dat);
  expectBad(d, recs[k].index, /log files/);
});

test('tamper: a checkpoint signature, and a root re-signed by an insider', { skip: !HAVE_SQLITE && 'sqlite3 CLI missing' }, async () => {
  let d = await stopped();
  let db = join(d, 'medverse.db');
  const size = T.cps[Math.floor(T.cps.length / 2)];
  const note = sql(db, `SELECT hex(note) FROM ledger_checkpoints WHERE size = ${size}`);
  const text = Buffer.from(note, 'hex').toString('utf8');
  const sigStart = text.lastIndexOf(' ') + 40; // past the key id
  const flipped = text.slice(0, sigStart) + (text[sigStart] === 'A' ? 'B' : 'A') + text.slice(sigStart + 1);
  sql(db, `UPDATE ledger_checkpoints SET note = CAST(X'${Buffer.from(flipped).toString('hex')}' AS TEXT) WHERE size = ${size}`);
  expectBad(d, size - 1, new RegExp(`checkpoint at size ${size}: bad signature`));

  // The root line altered (signature left as it was).
  d = await stopped();
  db = join(d, 'medverse.db');
  const lines = text.split('\n');
  lines[2] = sha(Buffer.from('other root')).toString('base64');
  sql(db, `UPDATE ledger_checkpoints SET note = CAST(X'${Buffer.from(lines.join('\n')).toString('hex')}' AS TEXT) WHERE size = ${size}`);
  expectBad(d, size - 1, new RegExp(`checkpoint at size ${size}: bad signature`));

  // An insider with the log key signs a checkpoint with another root.
  d = await stopped();
  db = join(d, 'medverse.db');
  const [origin, sz] = text.split('\n');
  const forged = signNote(`${origin}\n${sz}\n${sha(Buffer.from('forged')).toString('base64')}\n`, join(d, 'ledger', 'ledger.key'));
  sql(db, `UPDATE ledger_checkpoints SET note = CAST(X'${Buffer.from(forged).toString('hex')}' AS TEXT) WHERE size = ${size}`);
  expectBad(d, size - 1, new RegExp(`checkpoint at size ${size}: its root differs`));
});

test('tamper: truncating the log (database entries, then the log files)', { skip: !HAVE_SQLITE && 'sqlite3 CLI missing' }, async () => {
  let d = await stopped();
  const cut = Math.floor(T.size / 2);
  sql(join(d, 'medverse.db'), `DELETE FROM ledger WHERE idx >= ${cut}`);
  expectBad(d, cut, /truncated/);

  d = await stopped();
  const f = join(d, 'ledger', 'leaves.dat');
  const dat = readFileSync(f);
  const recs = leafRecords(dat);
  writeFileSync(f, dat.subarray(0, recs[2].off));
  const r = verifyDir(d);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  // Cut below the files' durable mark: the files cannot name an entry.
  assert.match(r.stderr, /FAILED(: log files corrupt or truncated| at entry 2: .*truncated)/);
});

test('tamper: reordering two entries', { skip: !HAVE_SQLITE && 'sqlite3 CLI missing' }, async () => {
  const d = await stopped();
  const i = 3, j = 7;
  sql(join(d, 'medverse.db'), `UPDATE ledger SET leaf = CASE idx WHEN ${i} THEN (SELECT leaf FROM ledger WHERE idx = ${j}) ELSE (SELECT leaf FROM ledger WHERE idx = ${i}) END WHERE idx IN (${i}, ${j})`);
  expectBad(d, i, /reordered/);
});

test('tamper: a forked log (another history at the same size) is named', async () => {
  const base = await stopped();
  const fork = await stopped();
  // Grow both copies by the same number of writes: same size, other entries.
  for (const dir of [base, fork]) {
    const srv = await serve(dir);
    const tok = { doc1: await login(srv.url, 'doc1') };
    await grow(srv, tok, 2, 'fork');
    await srv.stop();
  }
  const a = verifyDir(base), b = verifyDir(fork);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  // the fork's log files beside the base's database
  rmSync(join(base, 'ledger', 'leaves.dat'));
  for (const f of readdirSync(join(fork, 'ledger')).filter((x) => !x.endsWith('.key') && !x.endsWith('.vkey') && x !== 'LOCK'))
    cpSync(join(fork, 'ledger', f), join(base, 'ledger', f));
  expectBad(base, T.size, /different leaf|log files/);
});

// ---- the witness ----

function witness(url, state, extra = []) {
  return run(['ledger', 'witness', '--log', url, '--key', S.wkey, '--state', state, '--token-file', S.tokenFile, '--once', ...extra]);
}

test('witness: cosigns a growing log, keeps state across restarts, refuses rollback, fork and another key', async () => {
  await stopped(); // T.dir is a snapshot of the log before the witness starts
  const state = join(tmpRoot, 'wstate');
  const vkeyFile = join(S.dir, 'ledger', 'ledger.vkey');
  let r = witness(S.srv.url, state, ['--log-key', vkeyFile]);
  assert.equal(r.status, 0, r.stderr);
  const m1 = r.stdout.match(/^cosigned (\S+) size (\d+) root (\S+)/);
  assert.ok(m1, r.stdout);
  assert.equal(m1[1], S.vk.name);
  const st1 = readFileSync(join(state, 'state'), 'utf8');
  assert.match(st1, new RegExp(`^size ${m1[2]}$`, 'm'));
  assert.equal(statSync(join(state, 'state')).mode & 0o777, 0o600);

  // the log grows; the witness checks consistency and cosigns again
  await grow(S.srv, S.tok, 3);
  r = witness(S.srv.url, state);
  assert.equal(r.status, 0, r.stderr);
  const m2 = r.stdout.match(/^cosigned \S+ size (\d+)/);
  assert.ok(Number(m2[1]) > Number(m1[2]), r.stdout);

  // the log serves its checkpoint with our cosignature
  const cp = await http(S.srv.url, 'GET', '/ledger/checkpoint', { token: S.tok.auditor });
  assert.equal(cp.status, 200);
  assert.ok(cp.text.includes(`\u2014 witness.hospital-b.example `), cp.text);

  // the state survives a restart of both sides
  await S.srv.stop();
  S.srv = await serve(S.dir, S.srvArgs);
  S.tok.auditor = await login(S.srv.url, 'audit1');
  writeFileSync(S.tokenFile, S.tok.auditor + '\n');
  S.tok.doc1 = await login(S.srv.url, 'doc1');
  await grow(S.srv, S.tok, 1);
  r = witness(S.srv.url, state);
  assert.equal(r.status, 0, r.stderr);
  const m3 = r.stdout.match(/^cosigned \S+ size (\d+)/);
  assert.ok(Number(m3[1]) > Number(m2[1]));
  const cosigned = Number(m3[1]);

  // rollback: the same log restored from an older backup
  const old = copyDir(T.dir);
  let srv = await serve(old);
  writeFileSync(S.tokenFile, (await login(srv.url, 'audit1')) + '\n');
  r = witness(srv.url, state);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /REFUSED: rollback/);
  assert.ok(readdirSync(state).some((f) => f.startsWith('refused-')), 'evidence kept');
  assert.match(readFileSync(join(state, 'state'), 'utf8'), new RegExp(`^size ${cosigned}$`, 'm'), 'state unchanged');

  // fork: the old backup grown to the cosigned size with other entries
  const tok = { doc1: await login(srv.url, 'doc1') };
  let size = Number(verifyDir(old).stdout.match(/latest size (\d+)/)[1]);
  while (size < cosigned) {
    await grow(srv, tok, 1, 'fork');
    size = Number(verifyDir(old).stdout.match(/latest size (\d+)/)[1]);
  }
  // the forked copy verifies on its own, but not against the checkpoint the
  // witness kept: a history rewritten by someone holding the log key
  assert.equal(verifyDir(old).status, 0);
  const vs = verifyDir(old, ['--checkpoint', join(state, 'checkpoint')]);
  assert.equal(vs.status, 1, vs.stdout);
  assert.match(vs.stderr, /FAILED at entry \d+: checkpoint at size \d+: its root differs/);
  assert.equal(verifyDir(S.dir, ['--checkpoint', join(state, 'checkpoint')]).status, 0);
  r = witness(srv.url, state);
  assert.equal(r.status, 1, r.stdout);
  if (size === cosigned) assert.match(r.stderr, /REFUSED: fork: same size, different root/);
  else assert.match(r.stderr, /REFUSED: (consistency proof does not verify|fork)/);
  await srv.stop();

  // another log key (a new log pretending to be ours)
  const impostor = join(tmpRoot, 'impostor');
  srv = await serve(impostor);
  addUser(impostor, 'audit1', 'auditor');
  writeFileSync(S.tokenFile, (await login(srv.url, 'audit1')) + '\n');
  r = witness(srv.url, state);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /REFUSED: (no signature by the log's key|bad log signature|origin)/);
  // and a --log-key that differs from the pinned key is refused outright
  r = witness(srv.url, state, ['--log-key', join(impostor, 'ledger', 'ledger.vkey')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /differs from the log key pinned/);
  await srv.stop();

  // back on the real log the witness carries on from its state
  writeFileSync(S.tokenFile, S.tok.auditor + '\n');
  r = witness(S.srv.url, state);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`size ${cosigned}( |$)`));
});

test('verify detects an intact directory after the witness rounds', () => {
  const r = verifyDir(S.dir);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(S.dir, 'ledger', 'ledger.vkey')));
});

// ---- a hostile log: the witness against malformed and forged answers ----

// RFC 9162 §2.1.1 and §2.1.4.1, over leaf hashes.
function mth(l) {
  if (l.length === 0) return sha(Buffer.alloc(0));
  if (l.length === 1) return l[0];
  let k = 1; while (k * 2 < l.length) k *= 2;
  return nodeHash(mth(l.slice(0, k)), mth(l.slice(k)));
}
function subproof(m, l, b) {
  if (m === l.length) return b ? [] : [mth(l)];
  let k = 1; while (k * 2 < l.length) k *= 2;
  if (m <= k) return [...subproof(m, l.slice(0, k), b), mth(l.slice(k))];
  return [...subproof(m - k, l.slice(k), false), mth(l.slice(0, k))];
}

test('witness against a hostile log: malformed proofs, rollback, garbage, oversized answers, forged keys', async () => {
  const { createServer } = await import('node:http');
  const logKey = join(tmpRoot, 'fake-log.key'), otherKey = join(tmpRoot, 'fake-other.key');
  const name = 'fake.example/log';
  const vkey = run(['ledger', 'keygen', '--type', 'log', '--name', name, '--out', logKey]).stdout.trim();
  run(['ledger', 'keygen', '--type', 'log', '--name', name, '--out', otherKey]);
  const leaves = Array.from({ length: 40 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
  const note = (size, key = logKey, root = mth(leaves.slice(0, size))) =>
    signNote(`${name}\n${size}\n${root.toString('base64')}\n`, key);
  const log = { checkpoint: note(3), proof: null, posted: [] };
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const u = new URL(req.url, 'http://x');
      if (u.pathname === '/ledger/key') return res.end(vkey + '\n');
      if (u.pathname === '/ledger/checkpoint') return res.end(log.checkpoint);
      if (u.pathname === '/ledger/proof/consistency') {
        const from = Number(u.searchParams.get('from')), to = Number(u.searchParams.get('to'));
        const hashes = log.proof ? log.proof(from, to) : subproof(from, leaves.slice(0, to), true).map((h) => h.toString('base64'));
        return res.end(JSON.stringify({ from, to, hashes }));
      }
      if (u.pathname === '/ledger/cosignature' && req.method === 'POST') { log.posted.push(body); return res.end('{"accepted":1}'); }
      res.statusCode = 404; res.end();
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${srv.address().port}`;
  const state = join(tmpRoot, 'wstate-fake');
  const once = () => new Promise((resolve) => {
    const p = spawn(BIN, ['ledger', 'witness', '--log', url, '--key', S.wkey, '--state', state, '--once']);
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; }); p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (status) => resolve({ status, stdout: out, stderr: err }));
  });
  try {
    // first contact: pins the key (trust on first use) and cosigns size 3
    let r = await once();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /pinned the log key/);
    // the posted cosignature is a valid C2SP cosignature/v1 by the witness key
    const posted = log.posted.at(-1);
    const line = posted.split('\n').find((l) => l.startsWith('\u2014 witness.hospital-b.example '));
    const sig = Buffer.from(line.split(' ')[2], 'base64');
    assert.equal(sig.length, 76);
    const [, wid, ...wrest] = S.wvkey.split('+');
    assert.equal(sig.subarray(0, 4).toString('hex'), wid);
    const t = sig.readBigUInt64BE(4);
    const wpub = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(wrest.join('+'), 'base64').subarray(1)]), format: 'der', type: 'spki' });
    const body3 = log.checkpoint.slice(0, log.checkpoint.indexOf('\n\n') + 1);
    assert.ok(verify(null, Buffer.from(`cosignature/v1\ntime ${t}\n${body3}`), wpub, sig.subarray(12)));

    // growth with a correct proof is cosigned
    log.checkpoint = note(13);
    r = await once();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /size 13 /);

    // malformed and wrong proofs are refused, the state stays at 13
    const good = (from, to) => subproof(from, leaves.slice(0, to), true).map((h) => h.toString('base64'));
    log.checkpoint = note(29);
    for (const [proof, re] of [
      [(f, t) => [...good(f, t).slice(0, -1), 'AAAA'], /malformed consistency proof/],
      [(f, t) => [...good(f, t), good(f, t)[0]], /malformed consistency proof|REFUSED/],
      [(f, t) => good(f, t).slice(1), /REFUSED/],
      [(f, t) => { const g = good(f, t); const b = Buffer.from(g[0], 'base64'); b[0] ^= 1; g[0] = b.toString('base64'); return g; }, /REFUSED: consistency proof does not verify/],
      [() => 'not an array', /malformed consistency proof/],
    ]) {
      log.proof = proof;
      r = await once();
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, re);
      console.log(`witness said: ${r.stderr.match(/(REFUSED.*|cannot.*)/)?.[0]}`);
      assert.match(readFileSync(join(state, 'state'), 'utf8'), /^size 13$/m);
    }
    log.proof = null;

    // a checkpoint over other leaves at the same size: inconsistent history
    const forkLeaves = leaves.map((h, i) => (i === 5 ? leafHash(Buffer.from('other')) : h));
    log.checkpoint = note(29, logKey, mth(forkLeaves.slice(0, 29)));
    r = await once();
    assert.equal(r.status, 1);
    assert.match(r.stderr, /REFUSED: consistency proof does not verify/);

    // non-monotonic size, garbage, a forged key with the right name, an altered note
    for (const [cp, re] of [
      [note(12), /REFUSED: rollback/],
      [note(13, logKey, sha(Buffer.from('x'))), /REFUSED: fork: same size, different root/],
      ['hello\n', /REFUSED: malformed checkpoint note/],
      [note(20, otherKey), /REFUSED: no signature by the log's key/],
      [note(20).replace('\n20\n', '\n21\n'), /REFUSED: bad log signature/],
    ]) {
      log.checkpoint = cp;
      r = await once();
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, re);
      console.log(`witness said: ${r.stderr.match(/REFUSED.*/)?.[0]}`);
    }
    // an answer larger than the cap is cut off, never buffered whole
    log.checkpoint = 'x'.repeat(5 * 1024 * 1024);
    r = await once();
    assert.equal(r.status, 1);
    assert.match(r.stderr, /larger than/);
    assert.match(readFileSync(join(state, 'state'), 'utf8'), /^size 13$/m);

    // and the honest log carries on
    log.checkpoint = note(29);
    r = await once();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /size 29 /);
  } finally {
    srv.close();
  }
});
