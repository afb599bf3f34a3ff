// SPDX-License-Identifier: Apache-2.0
// `medverse epi rt` and `medverse epi forecast` on files: our own fixtures
// (tests/data/epi, computed once with EpiEstim 2.2-4) and, when the shared
// surveillance data is present, every deterministic estimate_R golden and
// the renewal-forecast goldens; 1e-9 relative, NA kept distinct. Then bad
// input: FILE:LINE or the flag named, exit status 2, no output, no crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run, SRC, tempDir } from './helpers.mjs';

const FIX = join(SRC, 'tests/data/epi');
const SHARED = join(SRC, '../shared/data/surveillance');
const haveShared = existsSync(join(SHARED, 'golden/index.json'));

function parseCsv(text) {
  const lines = text.trim().split('\n');
  const head = lines[0].split(',');
  return { head, rows: lines.slice(1).map((l) => l.split(',')) };
}

function num(s) {
  if (s === 'NA' || s === '' || s === 'NaN') return NaN;
  return Number(s);
}

// Compare two CSV texts column by column; returns a list of problems.
function compareCsv(got, want, tol = 1e-9) {
  const g = parseCsv(got), w = parseCsv(want);
  const problems = [];
  assert.deepEqual(g.head, w.head, 'column names');
  assert.equal(g.rows.length, w.rows.length, 'row count');
  for (let i = 0; i < w.rows.length; i++) {
    for (let c = 0; c < w.head.length; c++) {
      const a = num(g.rows[i][c]), b = num(w.rows[i][c]);
      if (Number.isNaN(b) || Number.isNaN(a)) {
        if (!(Number.isNaN(a) && Number.isNaN(b))) problems.push(`row ${i + 1} ${w.head[c]}: ${g.rows[i][c]} vs ${w.rows[i][c]}`);
        continue;
      }
      const d = a === b ? 0 : Math.abs(a - b) / Math.abs(b);
      if (!(d <= tol)) problems.push(`row ${i + 1} ${w.head[c]}: ${a} vs ${b} (rel ${d})`);
    }
  }
  return problems;
}

function rtOk(args) {
  const r = run(['epi', 'rt', ...args]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('epi rt matches our EpiEstim fixtures (parametric, local/imported)', () => {
  const out = rtOk(['--incidence', join(FIX, 'synth_incidence_li.csv'), '--si-mean', '4.8', '--si-sd', '2.3']);
  assert.deepEqual(compareCsv(out, readFileSync(join(FIX, 'synth_rt_parametric_li.csv'), 'utf8')), []);
});

test('epi rt matches our fixture with a pmf, explicit windows, prior and NA', () => {
  const want = readFileSync(join(FIX, 'synth_rt_nonparam_I.csv'), 'utf8');
  const w = parseCsv(want);
  const ts = w.rows.map((r) => r[0]).join(','), te = w.rows.map((r) => r[1]).join(',');
  const out = rtOk(['--incidence', join(FIX, 'synth_incidence_I.csv'), '--si-distr', join(FIX, 'synth_si.csv'),
    '--t-start', ts, '--t-end', te, '--mean-prior', '2', '--std-prior', '3']);
  assert.match(out.split('\n')[1], /^2,3,NA,NA/);
  assert.deepEqual(compareCsv(out, want), []);
});

test('epi forecast matches our fixture', () => {
  const r = run(['epi', 'forecast', '--incidence', join(FIX, 'synth_incidence_li.csv'), '--si-mean', '4.8', '--si-sd', '2.3', '--horizon', '10']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(compareCsv(r.stdout, readFileSync(join(FIX, 'synth_forecast_H10.csv'), 'utf8')), []);
});

test('epi rt and forecast match the shared goldens', (t) => {
  if (!haveShared) { t.skip('shared surveillance data absent'); return; }
  const index = JSON.parse(readFileSync(join(SHARED, 'golden/index.json'), 'utf8'));
  let checked = 0;
  for (const g of index.goldens) {
    if (g.kind !== 'epiestim_estimate_R' && !g.name.includes('__renewal_forecast__')) continue;
    const side = JSON.parse(readFileSync(join(SHARED, 'golden', `${g.name}.json`), 'utf8'));
    const want = readFileSync(join(SHARED, 'golden', `${g.name}.csv`), 'utf8');
    const cfg = side.config || {};
    const inc = join(SHARED, side.input[0]);
    let args;
    if (g.kind === 'epiestim_estimate_R' && !side.stochastic &&
        (side.method === 'parametric_si' || side.method === 'non_parametric_si')) {
      args = ['epi', 'rt', '--incidence', inc,
        '--t-start', cfg.t_start.join(','), '--t-end', cfg.t_end.join(','),
        '--mean-prior', String(cfg.mean_prior), '--std-prior', String(cfg.std_prior)];
      if (side.method === 'parametric_si') args.push('--si-mean', String(cfg.mean_si), '--si-sd', String(cfg.std_si));
      else args.push('--si-distr', join(SHARED, side.input[1]));
    } else if (g.name.includes('__renewal_forecast__')) {
      args = ['epi', 'forecast', '--incidence', inc, '--si-mean', String(cfg.mean_si), '--si-sd', String(cfg.std_si),
        '--horizon', String(cfg.H), '--mean-prior', String(cfg.mean_prior), '--std-prior', String(cfg.std_prior)];
    } else continue;
    const r = run(args);
    assert.equal(r.status, 0, `${g.name}: ${r.stderr}`);
    assert.deepEqual(compareCsv(r.stdout, want), [], g.name);
    checked++;
  }
  assert.ok(checked >= 7, `checked ${checked}`);
});

test('epi rt default weekly windows equal the explicit golden windows', (t) => {
  if (!haveShared) { t.skip('shared surveillance data absent'); return; }
  const out = rtOk(['--incidence', join(SHARED, 'epiestim_Flu2009_incidence.csv'), '--si-mean', '2.6', '--si-sd', '1.5']);
  const want = readFileSync(join(SHARED, 'golden/epiestim_Flu2009__estimate_R__parametric_si_mean2.6_sd1.5.csv'), 'utf8');
  assert.deepEqual(compareCsv(out, want), []);
});

test('bad input is named, exits 2 and prints nothing on stdout', () => {
  const dir = tempDir('mv-epi-');
  try {
    const f = (name, text) => { const p = join(dir, name); writeFileSync(p, text); return p; };
    const good = f('good.csv', 't,I\n' + Array.from({ length: 20 }, (_, i) => `${i + 1},${i + 2}`).join('\n') + '\n');
    const cases = [
      [['--incidence', f('neg.csv', 't,I\n1,3\n2,-1\n3,4\n')], /neg\.csv:3: I must be a non-negative integer/],
      [['--incidence', f('frac.csv', 't,I\n1,3\n2,1.5\n3,4\n')], /frac\.csv:3: I must be/],
      [['--incidence', f('gap.csv', 't,I\n1,3\n2,1\n4,4\n')], /gap\.csv:4: t is 4, expected 3/],
      [['--incidence', f('unsorted.csv', 't,I\n2,3\n1,1\n')], /unsorted\.csv:2: t is 2, expected 1/],
      [['--incidence', f('hdr.csv', 'day,count\n1,2\n')], /hdr\.csv:1: header must have t/],
      [['--incidence', f('imp.csv', 't,local,imported\n1,0,2\n2,1,x\n')], /imp\.csv:3: imported must be/],
      [['--incidence', good, '--si-mean', '0.9'], /--si-mean: must be a number > 1/],
      [['--incidence', good, '--si-sd', '-1'], /--si-sd: must be a number > 0/],
      [['--incidence', good, '--si-distr', f('si.csv', 'k,p\n0,0\n1,0.5\n2,0.3\n')], /si\.csv: p sums to 0\.8/],
      [['--incidence', good, '--si-distr', f('si0.csv', 'k,p\n0,0.1\n1,0.9\n')], /si0\.csv:2: p at k = 0 must be 0/],
      [['--incidence', good, '--t-start', '1,5', '--t-end', '4,9'], /--t-start: value 1 \(1\) must be in 2\.\.20/],
      [['--incidence', good, '--t-start', '2,5', '--t-end', '4,99'], /--t-end: value 2 \(99\)/],
      [['--incidence', good, '--t-start', '2,5', '--t-end', '4'], /--t-end: 1 values, --t-start has 2/],
      [['--incidence', good, '--window', '30'], /--window: 30 days does not fit/],
      [['--incidence', good, '--mean-prior', '0'], /--mean-prior: must be a number > 0/],
      [['--incidence', join(dir, 'missing.csv')], /missing\.csv/],
      [['--bogus', '1'], /unknown flag --bogus/],
    ];
    for (const [extra, re] of cases) {
      const args = ['epi', 'rt', ...extra];
      if (!extra.includes('--si-mean') && !extra.includes('--si-distr') && !extra.includes('--si-sd') && !extra.includes('--bogus'))
        args.push('--si-mean', '3', '--si-sd', '1.5');
      if (extra.includes('--si-mean')) args.push('--si-sd', '1');
      if (extra.includes('--si-sd') && !extra.includes('--si-mean')) args.push('--si-mean', '3');
      const r = run(args);
      assert.equal(r.status, 2, `${args.join(' ')}: status ${r.status} ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
    }
    const fc = [
      [['--incidence', good, '--si-mean', '3', '--si-sd', '1', '--horizon', '0'], /--horizon: must be an integer/],
      [['--incidence', f('short.csv', 't,I\n1,1\n2,2\n3,3\n'), '--si-mean', '3', '--si-sd', '1'], /at least 8 rows/],
      [['--incidence', good, '--si-mean', '3'], /--si-sd: required/],
    ];
    for (const [extra, re] of fc) {
      const r = run(['epi', 'forecast', ...extra]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, '');
    }
    for (const sub of ['rt', 'forecast']) {
      const r = run(['epi', sub, '--help']);
      assert.equal(r.status, 0);
      assert.match(r.stdout, new RegExp(`usage: medverse epi ${sub}`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
