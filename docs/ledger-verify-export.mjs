#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Independent verifier for `medverse ledger export` files (format
// medverse-ledger-export/1, see docs/LEDGER.md "Command line and witnesses").
// Needs only Node.js (>= 18, node:crypto): no medverse code. It recomputes
// the RFC 6962 / RFC 9162 Merkle tree (leaf hash SHA-256(0x00 || leaf),
// node hash SHA-256(0x01 || left || right)) from the exported leaves and the
// subtree hashes outside the exported range, checks the Ed25519 signature of
// every exported checkpoint (C2SP signed-note) under the log's verifier key,
// and checks that each checkpoint's root equals the recomputed root at its
// size. Usage:
//   node ledger-verify-export.mjs EXPORT.jsonl [--log-key 'name+hash+base64']
// --log-key pins the key you obtained out of band (recommended); without it
// the key named in the export's header is used. Exit 0 when everything
// verifies, 1 with the reason otherwise.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const sha = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (d) => sha(Buffer.from([0]), d);
const nodeHash = (l, r) => sha(Buffer.from([1]), l, r);

function fail(msg) { console.error(`verify-export: ${msg}`); process.exit(1); }

// Go note verifier key: <name>+<hex key id>+<base64(0x01 || 32-byte key)>.
function parseVkey(vkey) {
  // The name has no '+'; the base64 key may.
  const [name, id, ...rest] = vkey.trim().split('+');
  const b64 = rest.join('+');
  const raw = Buffer.from(b64 ?? '', 'base64');
  if (!name || raw.length !== 33 || raw[0] !== 1) fail('malformed log verifier key');
  const keyId = sha(Buffer.from(name + '\n'), raw).subarray(0, 4);
  if (keyId.toString('hex') !== id) fail('verifier key id does not match the key');
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw.subarray(1)]);
  return { name, keyId, key: createPublicKey({ key: spki, format: 'der', type: 'spki' }) };
}

// A C2SP signed note: body, blank line, signature lines "— name base64".
function verifyCheckpoint(note, vk) {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) fail('checkpoint without signature block');
  const body = note.slice(0, split + 1);
  let ok = false;
  for (const line of note.slice(split + 2).split('\n')) {
    const m = line.match(/^\u2014 (\S+) (\S+)$/);
    if (!m || m[1] !== vk.name) continue;
    const sig = Buffer.from(m[2], 'base64');
    if (sig.length !== 68 || !sig.subarray(0, 4).equals(vk.keyId)) continue;
    if (verify(null, Buffer.from(body, 'utf8'), vk.key, sig.subarray(4))) ok = true;
  }
  if (!ok) fail('checkpoint signature does not verify under the log key');
  const [origin, size, root] = body.split('\n');
  if (!/^(0|[1-9][0-9]*)$/.test(size)) fail('checkpoint size is not decimal');
  return { origin, size: Number(size), root: Buffer.from(root, 'base64') };
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const pinned = args.includes('--log-key') ? args[args.indexOf('--log-key') + 1] : null;
if (!file) fail('usage: node ledger-verify-export.mjs EXPORT.jsonl [--log-key VKEY]');
const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length);
const head = JSON.parse(lines[0]);
if (head.format !== 'medverse-ledger-export/1') fail('not a medverse-ledger-export/1 file');
if (pinned && pinned.trim() !== head.log_key) fail('log key differs from the pinned key');
const vk = parseVkey(pinned ?? head.log_key);

// The compact range (RFC 9162 §2.1: a tree of any size is the stack of its
// perfect left subtrees): push subtrees left to right, merging equal heights.
const stack = []; // [{h: height, hash}]
let size = 0;
const push = (h, hash) => {
  stack.push({ h, hash });
  while (stack.length > 1 && stack.at(-1).h === stack.at(-2).h) {
    const r = stack.pop(), l = stack.pop();
    stack.push({ h: l.h + 1, hash: nodeHash(l.hash, r.hash) });
  }
};
const root = () => {
  if (!stack.length) return sha(Buffer.alloc(0));
  let h = stack.at(-1).hash;
  for (let i = stack.length - 2; i >= 0; i--) h = nodeHash(stack[i].hash, h);
  return h;
};
const checkpoints = [];
for (const l of lines.slice(1)) {
  const o = JSON.parse(l);
  if (o.checkpoint !== undefined) checkpoints.push(verifyCheckpoint(o.checkpoint, vk));
}
checkpoints.sort((a, b) => a.size - b.size);
let ci = 0, leaves = 0;
const check = () => {
  for (; ci < checkpoints.length && checkpoints[ci].size === size; ci++)
    if (!root().equals(checkpoints[ci].root)) fail(`checkpoint at size ${size}: root differs from the recomputed tree`);
};
check();
for (const l of lines.slice(1)) {
  const o = JSON.parse(l);
  if (o.subtree) { // an aligned perfect subtree [lo, hi) outside the range
    const [lo, hi] = o.subtree, n = hi - lo;
    if (lo !== size || n <= 0 || (n & (n - 1)) || lo % n) fail(`bad subtree [${lo},${hi})`);
    push(Math.log2(n), Buffer.from(o.hash, 'base64'));
    size = hi;
  } else if (o.leaf !== undefined) {
    if (o.index !== size) fail(`leaf ${o.index} out of order (expected ${size})`);
    push(0, leafHash(Buffer.from(o.leaf, 'base64')));
    size++; leaves++;
  } else continue;
  check();
}
if (ci !== checkpoints.length) fail(`checkpoint at size ${checkpoints[ci].size} not covered by the export`);
if (size !== head.size) fail(`export covers ${size} entries, header says ${head.size}`);
console.log(`ok: ${leaves} leaves, ${checkpoints.length} checkpoints, size ${size}, origin ${head.origin}`);
