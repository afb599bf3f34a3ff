// SPDX-License-Identifier: Apache-2.0
// `medverse triage train` and `medverse triage eval` on our synthetic
// bilingual fixture (tests/data/clf): a model file is written, training is
// deterministic, eval prints exactly one JSON object with the contract's
// keys; and bad input: FILE:LINE for bad CSV, the flag named for bad
// options, a clear message for corrupt / truncated / wrong-version models,
// exit status 2, no output on stdout, never a crash. With the shared data,
// the dev-split targets are checked through the CLI as well.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run, SRC, tempDir } from './helpers.mjs';

const FIX = join(SRC, 'tests/data/clf');
const SHARED = join(SRC, '../shared/data/triage');

function train(dir, extra = []) {
  const out = join(dir, 'm.mvc');
  const r = run(['triage', 'train', '--train', join(FIX, 'train.csv'), '--dev', join(FIX, 'dev.csv'), '--out', out, ...extra]);
  return { r, out };
}

function evalJson(model, data) {
  const r = run(['triage', 'eval', '--model', model, '--data', data]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'exactly one line');
  return JSON.parse(lines[0]);
}

test('train writes a model; eval prints the metrics object', () => {
  const dir = tempDir('mv-clf-');
  try {
    const { r, out } = train(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.ok(existsSync(out));
    assert.match(r.stderr, /trained on 112 rows, 4 labels/);
    const m = evalJson(out, join(FIX, 'dev.csv'));
    assert.deepEqual(Object.keys(m), ['n', 'accuracy', 'macro_f1', 'top3', 'ece']);
    assert.equal(m.n, 48);
    assert.ok(m.accuracy >= 0.9 && m.accuracy <= 1, `accuracy ${m.accuracy}`);
    assert.ok(m.top3 >= m.accuracy);
    assert.ok(m.ece >= 0 && m.ece <= 1);
    // deterministic: a second training writes the same bytes
    const again = join(dir, 'm2.mvc');
    const r2 = run(['triage', 'train', '--train', join(FIX, 'train.csv'), '--out', again]);
    assert.equal(r2.status, 0, r2.stderr);
    assert.deepEqual(readFileSync(again), readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad CSV and bad flags: FILE:LINE or the flag, exit 2', () => {
  const dir = tempDir('mv-clf-');
  try {
    const { out } = train(dir);
    const cases = [
      ['id,label,text\n1,flu,"unterminated\n', /bad\.csv:2: /],
      ['id,text\n1,fever\n', /bad\.csv:1: header must have columns label and text/],
      ['id,label,text\n1,flu\n', /bad\.csv:2: expected at least 3 fields/],
      ['id,label,text\n', /bad\.csv:1: no data rows/],
      ['', /bad\.csv:1: empty file/],
    ];
    for (const [text, re] of cases) {
      const p = join(dir, 'bad.csv');
      writeFileSync(p, text);
      for (const args of [['triage', 'eval', '--model', out, '--data', p],
        ['triage', 'train', '--train', p, '--out', join(dir, 'x.mvc')]]) {
        const r = run(args);
        assert.equal(r.status, 2, `${JSON.stringify(text)}: ${r.stderr}`);
        assert.match(r.stderr, re);
        assert.equal(r.stdout, '');
      }
    }
    const usage = [
      [['triage', 'train', '--train', join(FIX, 'train.csv')], /usage: medverse triage train/],
      [['triage', 'eval', '--model', out], /usage: medverse triage eval/],
      [['triage', 'train', '--bogus', 'x'], /--bogus: unknown argument/],
      [['triage', 'train', '--train'], /--train: needs a value/],
      [['triage', 'train', '--train', join(FIX, 'train.csv'), '--out', join(dir, 'y'), '--l2', 'abc'], /--l2: /],
      [['triage', 'train', '--train', join(FIX, 'train.csv'), '--out', join(dir, 'y'), '--class-weight', 'x'], /--class-weight: /],
      [['triage', 'eval', '--model', out, '--data', join(dir, 'missing.csv')], /missing\.csv: cannot open/],
      [['triage'], /usage: medverse triage/],
    ];
    for (const [args, re] of usage) {
      const r = run(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
    // one label only
    const one = join(dir, 'one.csv');
    writeFileSync(one, 'id,label,text\n1,flu,fever\n2,flu,chills\n');
    const r = run(['triage', 'train', '--train', one, '--out', join(dir, 'z.mvc')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /need 2 to \d+ distinct labels, found 1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('corrupt, truncated and wrong-version models are rejected clearly', () => {
  const dir = tempDir('mv-clf-');
  try {
    const { out } = train(dir);
    const good = readFileSync(out);
    const variants = {
      truncated: [good.subarray(0, good.length - 8), /truncated/],
      flipped: [(() => { const b = Buffer.from(good); b[b.length - 5] ^= 0x10; return b; })(), /checksum/],
      version: [(() => { const b = Buffer.from(good); b.writeUInt32LE(99, 8); return b; })(), /version 99/],
      text: [Buffer.from('id,label,text\n'), /bad magic/],
      empty: [Buffer.alloc(0), /bad magic/],
    };
    for (const [name, [bytes, re]] of Object.entries(variants)) {
      const p = join(dir, `${name}.mvc`);
      writeFileSync(p, bytes);
      const r = run(['triage', 'eval', '--model', p, '--data', join(FIX, 'dev.csv')]);
      assert.equal(r.status, 2, `${name}: ${r.stderr}`);
      assert.match(r.stderr, re, name);
      assert.match(r.stderr, /--model/);
      assert.equal(r.stdout, '');
    }
    const r = run(['triage', 'eval', '--model', join(dir, 'none.mvc'), '--data', join(FIX, 'dev.csv')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot open/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const corpora = [
  ['symptom2disease', { accuracy: 176 / 178 - 1e-6, top3: 0.99 }],
  ['toyhom_im', { accuracy: 0.977, macro_f1: 0.870, top3: 0.99 }],
  ['dxy', { accuracy: 65 / 78 - 1e-6, top3: 0.96 }],
];
for (const [name, want] of corpora) {
  const have = existsSync(join(SHARED, name, 'train.csv'));
  test(`shared corpus ${name}: dev targets through the CLI`, { skip: !have && 'shared triage data absent', timeout: 300000 }, () => {
    const dir = tempDir('mv-clf-');
    try {
      const out = join(dir, 'm.mvc');
      const r = run(['triage', 'train', '--train', join(SHARED, name, 'train.csv'), '--out', out], { timeout: 280000 });
      assert.equal(r.status, 0, r.stderr);
      const m = evalJson(out, join(SHARED, name, 'dev.csv'));
      for (const [k, v] of Object.entries(want)) assert.ok(m[k] >= v, `${name} ${k} ${m[k]} < ${v}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
