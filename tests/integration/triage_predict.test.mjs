// SPDX-License-Identifier: Apache-2.0
// `medverse triage predict` contract: one JSON line per input line with the
// exact keys differential, urgency, red_flag, red_flag_category, advice;
// red flags without a model (differential []); with a model trained on the
// small committed fixture (tests/data/clf/train.csv) a top-k differential
// with probabilities; red flags override the classifier; context (negated,
// historical, family, hypothetical) does not trigger; bad input (empty,
// invalid UTF-8, emoji, mixed languages, gigantic lines) never crashes and
// keeps output lines paired with input lines; bad flags and model files
// exit 2 with a message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run, tempDir, SRC } from './helpers.mjs';

const KEYS = ['advice', 'differential', 'red_flag', 'red_flag_category', 'urgency'];
const URGENCY = ['emergency', 'urgent', 'soon', 'self-care'];

function predict(args, input) {
  const r = run(['triage', 'predict', ...args], { input });
  assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
  return { ...r, lines: r.stdout.split('\n').filter((l) => l.length).map((l) => JSON.parse(l)) };
}

function checkShape(o) {
  assert.deepEqual(Object.keys(o).sort(), KEYS);
  assert.ok(Array.isArray(o.differential));
  assert.ok(URGENCY.includes(o.urgency), o.urgency);
  assert.equal(typeof o.red_flag, 'boolean');
  assert.equal(typeof o.advice, 'string');
  assert.ok(o.advice.length > 20);
  if (o.red_flag) {
    assert.equal(typeof o.red_flag_category, 'string');
    assert.equal(o.urgency, 'emergency');
  } else {
    assert.equal(o.red_flag_category, null);
  }
}

test('without a model: red flags, urgency, exact keys, context respected', () => {
  const input = [
    'I have crushing chest pain and I am sweating',
    'no chest pain, no shortness of breath',
    'my father had a stroke ten years ago',
    'what should I do if I get chest pain?',
    '胸口痛得厉害，出冷汗',
    '没有发烧，否认胸痛',
    '十年前中风过',
    'I want to kill myself',
    '我不想活了',
    'a little short of breath after running up the stairs',
  ].join('\n') + '\n';
  const r = predict([], input);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.lines.length, 10);
  r.lines.forEach(checkShape);
  const flags = r.lines.map((o) => o.red_flag);
  assert.deepEqual(flags, [true, false, false, false, true, false, false, true, true, false]);
  assert.equal(r.lines[0].red_flag_category, 'heart_attack');
  assert.equal(r.lines[4].red_flag_category, 'heart_attack');
  assert.equal(r.lines[7].red_flag_category, 'suicide_self_harm');
  for (const o of r.lines) assert.deepEqual(o.differential, []);
  // emergency numbers by language, crisis lines, always "not a diagnosis"
  assert.match(r.lines[0].advice, /999/);
  assert.match(r.lines[0].advice, /911/);
  assert.match(r.lines[4].advice, /120/);
  assert.match(r.lines[7].advice, /116 123/);
  assert.match(r.lines[7].advice, /988/);
  assert.match(r.lines[8].advice, /12356/);
  assert.match(r.lines[1].advice, /not a diagnosis/);
  assert.match(r.lines[5].advice, /不是诊断/);
  assert.match(r.lines[5].advice, /[\u4e00-\u9fff]/); // advice in Chinese
});

test('--lang forces the advice language', () => {
  const r = predict(['--lang', 'zh'], 'I have a cough\n');
  assert.equal(r.status, 0);
  assert.match(r.lines[0].advice, /[\u4e00-\u9fff]/);
  const e = predict(['--lang', 'en'], '有点咳嗽\n');
  assert.doesNotMatch(e.lines[0].advice, /[\u4e00-\u9fff]/);
});

test('bad input never crashes and keeps lines paired', () => {
  const big = 'x'.repeat(100000);
  const input = Buffer.concat([
    Buffer.from('\n'),                                   // empty
    Buffer.from('   \n'),                                // blank
    Buffer.from([0xff, 0xfe, 0x20, 0xc3, 0x28, 0x0a]),   // invalid UTF-8
    Buffer.from('😀😀 can\'t breathe 😀\n'),             // emoji
    Buffer.from('I have 胸痛 and sweating\r\n'),         // mixed, CRLF
    Buffer.from(big + '\n'),                             // gigantic
    Buffer.from('chest pain'),                           // no final newline
  ]);
  const r = predict([], input);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.lines.length, 7);
  assert.deepEqual(Object.keys(r.lines[0]).sort(), ['error', 'line']);
  assert.equal(r.lines[0].line, 1);
  assert.equal(r.lines[1].line, 2);
  checkShape(r.lines[2]);
  checkShape(r.lines[3]);
  assert.equal(r.lines[3].red_flag_category, 'breathing_difficulty');
  checkShape(r.lines[4]);
  assert.equal(r.lines[4].red_flag, true);
  assert.deepEqual(Object.keys(r.lines[5]).sort(), ['error', 'line']);
  assert.equal(r.lines[5].line, 6);
  checkShape(r.lines[6]);
  assert.equal(r.lines[6].red_flag, true);
});

test('usage and model errors exit 2 with a message', () => {
  let r = run(['triage', 'predict', '--lang', 'fr'], { input: '' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--lang/);
  r = run(['triage', 'predict', '--bogus'], { input: '' });
  assert.equal(r.status, 2);
  r = run(['triage', 'predict', '--model', '/nonexistent/model.bin'], { input: 'x\n' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--model/);
  const dir = tempDir('mv-predict-');
  try {
    const bad = join(dir, 'bad.model');
    writeFileSync(bad, 'this is not a model file at all');
    r = run(['triage', 'predict', '--model', bad], { input: 'x\n' });
    assert.equal(r.status, 2);
    assert.equal(r.signal, null);
    assert.match(r.stderr, /--model/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  r = run(['triage', 'predict', '--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /not a diagnosis/);
});

test('with a model: differential with probabilities; red flag overrides', () => {
  const dir = tempDir('mv-predict-');
  try {
    const model = join(dir, 'fx.model');
    const t = run(['triage', 'train', '--train', join(SRC, 'tests/data/clf/train.csv'), '--out', model],
      { timeout: 120000 });
    assert.equal(t.status, 0, t.stderr);
    const r = predict(['--model', model], [
      'I have a dry cough, body aches and a high fever',
      '我发冷，还有高烧，咳嗽',
      'I have a dry cough and crushing chest pain',
    ].join('\n') + '\n');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.lines.length, 3);
    for (const o of r.lines) {
      checkShape(o);
      assert.ok(o.differential.length >= 2);
      let sum = 0, prev = 1;
      for (const d of o.differential) {
        assert.deepEqual(Object.keys(d).sort(), ['label', 'p']);
        assert.equal(typeof d.label, 'string');
        assert.ok(d.p >= 0 && d.p <= 1);
        assert.ok(d.p <= prev + 1e-9); // most probable first
        prev = d.p;
        sum += d.p;
      }
      assert.ok(sum <= 1.0001);
    }
    assert.equal(r.lines[0].red_flag, false);
    assert.notEqual(r.lines[0].urgency, 'emergency');
    assert.equal(r.lines[2].red_flag, true);
    assert.equal(r.lines[2].urgency, 'emergency');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
