// SPDX-License-Identifier: Apache-2.0
// `medverse ecg info|score|filter` end to end on records and annotation
// files generated here (WFDB format 16 and MIT annotations written by this
// test, independently of the C code): info text and JSON, EC57 counts for
// known edits of the reference beats (window edge at 150 ms), corrupt
// headers (FILE:LINE, exit 2), and a filtered record that reads back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run, tempDir } from './helpers.mjs';

const FS = 360;
const N = FS * 400; // 400 s
const RR = 288; // 75 bpm
const beats = [];
for (let t = 100; t < N; t += RR) beats.push(t);

// A one-signal format-16 record: spikes at the beats on a wandering baseline.
function writeRecord(dir, name, { checksumDelta = 0 } = {}) {
  const buf = Buffer.alloc(N * 2);
  let sum = 0;
  const spike = new Set();
  for (const b of beats) for (let k = -3; k <= 3; k++) spike.add(b + k);
  for (let i = 0; i < N; i++) {
    let v = Math.round(150 * Math.sin((2 * Math.PI * 0.2 * i) / FS));
    if (spike.has(i)) {
      const k = beats.find((b) => Math.abs(b - i) <= 3);
      v += 1000 - 250 * Math.abs(i - k);
    }
    buf.writeInt16LE(v, 2 * i);
    sum = (sum + v) & 0xffff;
  }
  const ck = (((sum + checksumDelta) & 0xffff) << 16) >> 16;
  writeFileSync(join(dir, `${name}.dat`), buf);
  writeFileSync(
    join(dir, `${name}.hea`),
    `${name} 1 ${FS} ${N}\n${name}.dat 16 200(0)/mV 16 0 ${buf.readInt16LE(0)} ${ck} 0 ECG II\n# generated\n`,
  );
}

// MIT annotation file: [{t, code, aux?}], sorted; intervals < 1024 or SKIP.
function writeAnn(path, anns) {
  const words = [];
  const w = (v) => words.push(v & 0xff, (v >> 8) & 0xff);
  let prev = 0;
  for (const a of anns) {
    let d = a.t - prev;
    if (d > 1023) {
      w(59 << 10);
      w(d >>> 16);
      w(d & 0xffff);
      d = 0;
    }
    w((a.code << 10) | d);
    if (a.aux) {
      w((63 << 10) | a.aux.length);
      for (const c of Buffer.from(a.aux)) words.push(c);
      if (a.aux.length % 2) words.push(0);
    }
    prev = a.t;
  }
  w(0);
  writeFileSync(path, Buffer.from(words));
}

function fixture() {
  const dir = tempDir('mv-ecg-');
  writeRecord(dir, 'gen');
  const ref = [{ t: 0, code: 28, aux: '(N' }, ...beats.map((t) => ({ t, code: 1 }))];
  writeAnn(join(dir, 'gen.atr'), ref);
  // Test set: two beats dropped, one extra, one 54 samples late (150 ms at
  // 360 Hz: a match) and one 55 samples late (not a match: an FN and an FP).
  const test = [];
  beats.forEach((t, i) => {
    if (i === 400 || i === 401) return;
    if (i === 420) test.push({ t: t + 54, code: 5 }); // label V: still a TP
    else if (i === 430) test.push({ t: t + 55, code: 1 });
    else test.push({ t, code: 1 });
    if (i === 410) test.push({ t: t + 144, code: 1 });
  });
  writeAnn(join(dir, 'gen.qrs'), test);
  return dir;
}

test('ecg info describes a generated record', () => {
  const dir = fixture();
  try {
    const r = run(['ecg', 'info', join(dir, 'gen')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /record gen: 1 signal, 360 Hz, 144000 samples per signal \(6:40\.000\)/);
    assert.match(r.stdout, /signal 0: ECG II, format 16 in gen\.dat, gain 200 adu\/mV, baseline 0/);
    assert.match(r.stdout, /checksums: ok/);
    assert.match(r.stdout, new RegExp(`annotations atr: ${beats.length + 1} \\(${beats.length} beats\\)`));
    assert.doesNotMatch(r.stdout, /generated/); // header comments are not shown
    const j = run(['ecg', 'info', join(dir, 'gen'), '--json']);
    assert.equal(j.status, 0, j.stderr);
    const o = JSON.parse(j.stdout);
    assert.equal(o.n_sig, 1);
    assert.equal(o.fs, 360);
    assert.equal(o.n_samples, N);
    assert.equal(o.checksum_ok, true);
    assert.equal(o.signals[0].format, 16);
    assert.equal(o.annotations.beats, beats.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ecg score counts EC57 matches from 5 minutes on', () => {
  const dir = fixture();
  try {
    const scored = beats.filter((t) => t >= 300 * FS && t <= N).length;
    const r = run(['ecg', 'score', join(dir, 'gen'), '--ref', 'atr', '--test', 'qrs']);
    assert.equal(r.status, 0, r.stderr);
    const tp = scored - 3, fn = 3, fp = 2;
    const se = ((100 * tp) / (tp + fn)).toFixed(2);
    const ppv = ((100 * tp) / (tp + fp)).toFixed(2);
    const der = ((100 * (fn + fp)) / (tp + fn)).toFixed(2);
    assert.equal(r.stdout, `gen: TP ${tp} FN ${fn} FP ${fp} Se ${se}% +P ${ppv}% DER ${der}%\n`);
    // Two records: per-record lines and a pooled gross line; JSON too.
    const j = run(['ecg', 'score', join(dir, 'gen'), join(dir, 'gen'), '--ref', 'atr', '--test', 'qrs', '--json']);
    assert.equal(j.status, 0, j.stderr);
    const o = JSON.parse(j.stdout);
    assert.equal(o.records.length, 2);
    assert.deepEqual([o.gross.tp, o.gross.fn, o.gross.fp], [2 * tp, 2 * fn, 2 * fp]);
    const t2 = run(['ecg', 'score', join(dir, 'gen'), join(dir, 'gen'), '--ref', 'atr', '--test', 'atr']);
    assert.match(t2.stdout, new RegExp(`^gross: TP ${2 * scored} FN 0 FP 0 Se 100\\.00% \\+P 100\\.00% DER 0\\.00%$`, 'm'));
    // Missing or malformed annotation files are bad input.
    writeFileSync(join(dir, 'gen.bad'), Buffer.from([0x05, 0xc8]));
    const b = run(['ecg', 'score', join(dir, 'gen'), '--ref', 'atr', '--test', 'bad']);
    assert.equal(b.status, 2);
    assert.match(b.stderr, /gen\.bad: byte 0: unknown annotation code 50/);
    const m = run(['ecg', 'score', join(dir, 'gen'), '--ref', 'atr', '--test', 'nope']);
    assert.equal(m.status, 2);
    assert.equal(run(['ecg', 'score', join(dir, 'gen'), '--ref', 'atr']).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ecg rejects corrupt headers with FILE:LINE and exit 2', () => {
  const dir = tempDir('mv-ecg-bad-');
  try {
    const cases = [
      ['x 1 360 100\nx.dat 99\n', /x\.hea:2: storage format 99 is not supported/],
      ['x 1 360 100\n', /x\.hea:1: header declares 1 signals but has 0 lines/],
      ['x 70 360\n', /x\.hea:1: more than 64 signals/],
      ['x 1 abc\n', /x\.hea:1: sampling frequency/],
      ['# c\nx 1 360 100\n../y.dat 16\n', /x\.hea:3: signal file name/],
      ['x 1 360 100\nx.dat 16 200(q)\n', /x\.hea:2: bad baseline/],
    ];
    for (const [text, re] of cases) {
      writeFileSync(join(dir, 'x.hea'), text);
      for (const sub of [['info'], ['filter', '--out', join(dir, 'o')]]) {
        const r = run(['ecg', sub[0], join(dir, 'x'), ...sub.slice(1)]);
        assert.equal(r.status, 2, `${text}: ${r.stderr}`);
        assert.match(r.stderr, re);
      }
    }
    // A checksum that does not match the samples.
    writeRecord(dir, 'ck', { checksumDelta: 1 });
    const r = run(['ecg', 'info', join(dir, 'ck')]);
    assert.equal(r.status, 2);
    assert.match(r.stdout, /checksums: MISMATCH/);
    assert.match(r.stderr, /ck\.hea: checksum mismatch/);
    // A truncated signal file.
    writeRecord(dir, 'tr');
    writeFileSync(join(dir, 'tr.dat'), readFileSync(join(dir, 'tr.dat')).subarray(0, 1000));
    const t = run(['ecg', 'info', join(dir, 'tr')]);
    assert.equal(t.status, 2);
    assert.match(t.stderr, /tr\.dat: signal file holds 500 of the 144000 samples/);
    assert.equal(run(['ecg', 'info', join(dir, 'missing')]).status, 2);
    assert.equal(run(['ecg', 'frobnicate']).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ecg filter writes a record that reads back', () => {
  const dir = fixture();
  try {
    const out = join(dir, 'flt');
    const r = run(['ecg', 'filter', join(dir, 'gen'), '--out', out, '--mains', '60', '--band', '0.5,40']);
    assert.equal(r.status, 0, r.stderr);
    const i = run(['ecg', 'info', out, '--json']);
    assert.equal(i.status, 0, i.stderr);
    const o = JSON.parse(i.stdout);
    assert.equal(o.n_samples, N);
    assert.equal(o.checksum_ok, true);
    assert.equal(o.signals[0].desc, 'ECG II');
    // The 0.2 Hz baseline wander (amplitude 150) is gone between beats.
    const x = readFileSync(`${out}.dat`);
    let maxQuiet = 0;
    for (let s = 30 * FS; s < N - 30 * FS; s++) {
      const near = beats.some((b) => Math.abs(b - s) < 60);
      if (!near) maxQuiet = Math.max(maxQuiet, Math.abs(x.readInt16LE(2 * s)));
    }
    assert.ok(maxQuiet < 60, `residual baseline ${maxQuiet}`);
    assert.match(readFileSync(`${out}.hea`, 'utf8'), /band-pass 0\.5-40 Hz, notch 60 Hz/);
    // 212 output and bad options.
    const f2 = run(['ecg', 'filter', join(dir, 'gen'), '--out', join(dir, 'f212'), '--format', '212']);
    assert.equal(f2.status, 0, f2.stderr);
    assert.equal(run(['ecg', 'info', join(dir, 'f212')]).status, 0);
    assert.equal(run(['ecg', 'filter', join(dir, 'gen'), '--out', out, '--band', '40,1']).status, 2);
    assert.equal(run(['ecg', 'filter', join(dir, 'gen'), '--out', out, '--mains', '55']).status, 2);
    assert.equal(run(['ecg', 'filter', join(dir, 'gen')]).status, 2);
    for (const sub of ['info', 'score', 'filter']) {
      const h = run(['ecg', sub, '--help']);
      assert.equal(h.status, 0);
      assert.match(h.stdout, new RegExp(`usage: medverse ecg ${sub}`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
