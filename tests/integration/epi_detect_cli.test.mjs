// SPDX-License-Identifier: Apache-2.0
// `medverse epi detect` end to end: the real binary against every R
// surveillance golden (the shared data when present, our own fixtures in
// tests/data/epi/detect always), with the golden's resolved control turned
// into kebab-case flags; then the bad-input contract (FILE:LINE messages,
// flag names, exit 2) and the output format (header, quoting, NA/NaN).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run, tempDir, SRC } from './helpers.mjs';

const SHARED = join(SRC, '..', 'shared', 'data', 'surveillance');
const FIXTURES = join(SRC, 'tests', 'data', 'epi', 'detect');

// RFC 4180 rows (quoted fields may hold commas).
function parseCsv(text) {
  const rows = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    const out = [];
    let cur = '', q = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (q) {
        if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') q = false; else cur += c;
      } else if (c === '"') q = true;
      else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
    }
    out.push(cur);
    rows.push(out);
  }
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

// The golden's control as CLI flags (null when the CLI cannot express it).
function flagsFor(meta) {
  const c = meta.control_resolved;
  const f = [];
  const range = () => f.push('--range-first', String(c.range_first), '--range-last', String(c.range_last));
  switch (meta.kind) {
    case 'surveillance_earsC':
      f.push('--method', `ears-${(c.method || 'C1').toLowerCase()}`);
      if (c.baseline !== undefined) f.push('--baseline', String(c.baseline));
      if (c.minSigma !== undefined) f.push('--min-sigma', String(c.minSigma));
      if (c.alpha !== undefined) f.push('--alpha', String(c.alpha));
      break;
    case 'surveillance_cusum':
      f.push('--method', 'cusum');
      if (c.k !== undefined) f.push('--k', String(c.k));
      if (c.h !== undefined) f.push('--h', String(c.h));
      if (c.trans) f.push('--trans', c.trans);
      if (c.alpha !== undefined && c.trans === 'pearsonNegBin') f.push('--alpha', String(c.alpha));
      if (c.m === 'glm') f.push('--m', 'glm');
      else if (typeof c.m === 'number') f.push('--m', String(c.m));
      break;
    case 'surveillance_bayes':
    case 'surveillance_rki':
      f.push('--method', meta.kind === 'surveillance_bayes' ? 'bayes' : 'rki');
      for (const [k, flag] of [['b', '--b'], ['w', '--w']]) if (c[k] !== undefined) f.push(flag, String(c[k]));
      if (c.actY !== undefined) f.push('--act-y', String(c.actY));
      if (c.alpha !== undefined && meta.kind === 'surveillance_bayes') f.push('--alpha', String(c.alpha));
      break;
    case 'surveillance_farringtonFlexible': {
      f.push('--method', 'farrington');
      if (c.epochAsDate === false) f.push('--epoch-as-date', 'false');
      const map = {
        b: '--b', w: '--w', reweight: '--reweight', weightsThreshold: '--weights-threshold', alpha: '--alpha',
        trend: '--trend', pThresholdTrend: '--p-threshold-trend', powertrans: '--powertrans',
        populationOffset: '--population-offset', noPeriods: '--no-periods',
        pastWeeksNotIncluded: '--past-weeks-not-included', thresholdMethod: '--threshold-method',
      };
      for (const [k, flag] of Object.entries(map)) if (c[k] !== undefined && c[k] !== null) f.push(flag, String(c[k]));
      if (Array.isArray(c.limit54)) f.push('--limit54', c.limit54.join(','));
      break;
    }
    default:
      return null;
  }
  range();
  return f;
}

function close(got, want) {
  if (want === 'NA' || want === 'NaN') return got === want;
  if (got === 'NA' || got === 'NaN') return false;
  const g = Number(got), w = Number(want);
  return g === w || Math.abs(g - w) <= 1e-9 * Math.abs(w);
}

function goldens(dir, prefix) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith(prefix) && n.endsWith('.json') && /__(earsC|cusum|bayes|rki|farringtonFlexible)/.test(n))
    .map((n) => n.slice(0, -5));
}

function checkGolden(gdir, ddir, name) {
  const meta = JSON.parse(readFileSync(join(gdir, `${name}.json`), 'utf8'));
  meta.dir = ddir;
  const flags = flagsFor(meta);
  if (!flags) return { skipped: true };
  const r = run(['epi', 'detect', '--input', join(ddir, meta.input), ...flags], { maxBuffer: 1 << 28, timeout: 120000 });
  assert.equal(r.status, 0, `${name}: ${r.stderr}`);
  assert.match(r.stdout, /^t,unit,observed,upperbound,alarm\n/);
  const got = new Map(parseCsv(r.stdout).map((x) => [`${x.unit}\u0000${x.t}`, x]));
  const want = parseCsv(readFileSync(join(gdir, `${name}.csv`), 'utf8'));
  let bad = 0, first = '';
  for (const w of want) {
    const g = got.get(`${w.unit}\u0000${w.t}`);
    const ok = g && close(g.upperbound, w.upperbound) && g.alarm === w.alarm &&
      (g.observed === w.observed || Number(g.observed) === Number(w.observed));
    if (!ok) { bad++; if (!first) first = `${w.unit} t=${w.t}: got ${JSON.stringify(g)} want ${w.upperbound}/${w.alarm}`; }
  }
  assert.equal(got.size, want.length, `${name}: row count`);
  assert.equal(bad, 0, `${name}: ${bad} rows differ; first ${first}`);
  return { rows: want.length };
}

test('CLI reproduces the repository fixtures (R surveillance 1.20.3)', () => {
  const names = goldens(FIXTURES, 'fx_');
  assert.ok(names.length >= 15, 'fixtures present');
  for (const n of names) checkGolden(FIXTURES, FIXTURES, n);
});

test('CLI reproduces every shared surveillance golden', (t) => {
  const gdir = join(SHARED, 'golden');
  const names = goldens(gdir, '');
  if (names.length === 0) { t.skip(`no shared data at ${SHARED}`); return; }
  let checked = 0;
  for (const n of names) if (!checkGolden(gdir, SHARED, n).skipped) checked++;
  assert.equal(checked, names.length);
});

test('all units are written when --unit is omitted; --unit selects one', () => {
  const input = join(FIXTURES, 'fx_weekly.csv');
  const all = run(['epi', 'detect', '--method', 'ears-c2', '--input', input]);
  assert.equal(all.status, 0, all.stderr);
  const rows = parseCsv(all.stdout);
  assert.deepEqual([...new Set(rows.map((x) => x.unit))], ['north', 'south']);
  const one = run(['epi', 'detect', '--method', 'ears-c2', '--input', input, '--unit', 'south']);
  assert.equal(one.status, 0);
  assert.deepEqual(parseCsv(one.stdout), rows.filter((x) => x.unit === 'south'));
  for (const x of rows) assert.ok(['0', '1', 'NA'].includes(x.alarm));
});

test('unit names with commas are quoted; NaN and NA are spelled as R does', () => {
  const dir = tempDir('mv-epi-');
  try {
    const p = join(dir, 'in.csv');
    const lines = ['t,unit,observed'];
    for (let t = 1; t <= 20; t++) lines.push(`${t},"[0,1)",0`);
    writeFileSync(p, lines.join('\n') + '\n');
    const r = run(['epi', 'detect', '--method', 'ears-c3', '--input', p]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^12,"\[0,1\)",0,NaN,NA$/m);
    const f = run(['epi', 'detect', '--method', 'farrington', '--input', p, '--b', '1', '--w', '1', '--freq', '8']);
    assert.equal(f.status, 0, f.stderr);
    assert.match(f.stdout, /^\d+,"\[0,1\)",0,NA,0$/m); // limit54: bound NA, alarm 0
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input names the file and line, or the flag, and exits 2', () => {
  const dir = tempDir('mv-epi-');
  try {
    const cases = [
      ['t,unit,observed\n1,a,1\n2,a,-4\n', /bad\.csv:3: .*non-negative integer/],
      ['t,unit,observed\n1,a,1\n2,a,2.5\n', /bad\.csv:3: .*integer/],
      ['t,unit,observed\n1,a,1\n3,a,1\n', /bad\.csv:3: .*gap/],
      ['t,unit,observed\n1,a,1\n2,a,1\n1,a,1\n', /bad\.csv:4: .*sorted/],
      ['t,unit,count\n1,a,1\n', /bad\.csv:1: .*observed/],
      ['t,date,unit,observed\n1,2021-02-30,a,1\n', /bad\.csv:2: .*date/],
    ];
    for (const [text, re] of cases) {
      const p = join(dir, 'bad.csv');
      writeFileSync(p, text);
      const r = run(['epi', 'detect', '--method', 'ears-c1', '--input', p]);
      assert.equal(r.status, 2, text);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, '');
    }
    const short = join(dir, 'short.csv');
    writeFileSync(short, 't,observed\n1,1\n2,2\n3,1\n4,0\n');
    const flagCases = [
      [['--method', 'ears-c1', '--input', short], /--(baseline|range-first): .*too short/],
      [['--method', 'ears-c9', '--input', short], /--method: /],
      [['--method', 'ears-c1', '--input', short, '--baseline', '2'], /--baseline: .*3/],
      [['--method', 'ears-c1', '--input', short, '--alpha', '1.5'], /--alpha: /],
      [['--method', 'ears-c1', '--input', short, '--k', '1'], /--k: not an option of method ears-c1/],
      [['--method', 'cusum', '--input', short, '--m', 'banana'], /--m: /],
      [['--method', 'bayes', '--input', short, '--b', '-1'], /--b: /],
      [['--method', 'farrington', '--input', short, '--limit54', '5'], /--limit54: /],
      [['--method', 'farrington', '--input', short, '--population-offset'], /--population-offset: /],
      [['--method', 'ears-c1', '--input', join(dir, 'missing.csv')], /--input: .*missing\.csv/],
      [['--method', 'ears-c1', '--input', short, '--unit', 'nowhere'], /--unit: /],
      [['--method', 'ears-c1'], /--input: required/],
      [['--input', short], /--method: required/],
      [['--method', 'ears-c1', '--input', short, '--bogus', '1'], /unknown flag '--bogus'/],
    ];
    for (const [args, re] of flagCases) {
      const r = run(['epi', 'detect', ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, '');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--epoch-as-date false treats a dated series as undated', () => {
  const dir = tempDir('mv-epi-');
  try {
    const dated = join(FIXTURES, 'fx_dated.csv');
    const undated = join(dir, 'undated.csv');
    const rows = readFileSync(dated, 'utf8').trim().split('\n').map((l) => l.split(','));
    const h = rows[0];
    const keep = h.map((c, i) => (c === 'date' ? -1 : i)).filter((i) => i >= 0);
    writeFileSync(undated, rows.map((r) => keep.map((i) => r[i]).join(',')).join('\n') + '\n');
    const args = ['--method', 'farrington', '--range-first', '290'];
    const a = run(['epi', 'detect', '--input', dated, '--epoch-as-date', 'false', ...args]);
    const b = run(['epi', 'detect', '--input', undated, ...args]);
    const c = run(['epi', 'detect', '--input', dated, ...args]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.notEqual(a.stdout, c.stdout); // calendar years differ from t - 52i
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('epi detect --help documents methods and flags', () => {
  const r = run(['epi', 'detect', '--help']);
  assert.equal(r.status, 0);
  for (const w of ['ears-c1', 'noufaily', '--baseline', '--min-sigma', '--alpha', '--range-first', '--range-last', '--threshold-method'])
    assert.ok(r.stdout.includes(w), w);
});
