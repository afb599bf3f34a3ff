// SPDX-License-Identifier: Apache-2.0
// The surveillance page in a real browser (Debian's chromium driven by
// playwright-core) against `medverse demo`: sign in as the demo
// epidemiologist, the regions table appears sorted by risk with the
// outbreak region first, its charts are drawn (canvases not blank), the
// not-a-medical-device notice is shown, a row is reachable by keyboard, and
// an open alert can be acknowledged. Saves build/.../e2e-surveillance.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { start } from '../integration/helpers.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Distinct colours in a canvas: a blank (or single-colour) canvas has one.
const colours = (id) => {
  const c = document.getElementById(id);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  for (let i = 0; i < d.length; i += 16) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  return seen.size;
};

test('surveillance page: sign in, regions by risk, charts, alerts', { skip: !existsSync(CHROMIUM) && `no browser at ${CHROMIUM}` }, async () => {
  const s = await start('demo', ['--demo-patients', '1', '--demo-interval-ms', '5000']);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${s.url}/surveillance.html`);
    assert.match(await page.textContent('.notice'), /Not a certified medical device/);
    // A clinician is refused (the page says so and stays on the sign-in form).
    await page.fill('#username', 'clinician');
    await page.fill('#password', 'demo-clinician');
    await page.click('#login button');
    await page.waitForSelector('#login-error:not([hidden])', { timeout: 10000 });
    assert.ok(await page.isHidden('#app-view'));
    // The demo epidemiologist.
    await page.fill('#username', 'epi');
    await page.fill('#password', 'demo-epi');
    await page.press('#password', 'Enter');
    await page.waitForSelector('#regions tbody tr', { timeout: 10000 });
    const rows = await page.$$eval('#regions tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.equal(rows.length, 12);
    assert.equal(rows[0][0], 'Harbor District', JSON.stringify(rows));
    const risks = rows.map((r) => Number(r[6]));
    for (let i = 1; i < risks.length; i++) assert.ok(risks[i - 1] >= risks[i], JSON.stringify(risks));
    // The first region's charts are drawn.
    await page.waitForFunction(() => document.getElementById('detail-title').textContent.includes('Harbor District'), null, { timeout: 10000 });
    for (const id of ['chart-counts', 'chart-rt', 'chart-forecast'])
      assert.ok(await page.evaluate(colours, id) > 3, `${id} is blank`);
    assert.match(await page.getAttribute('#chart-rt', 'aria-label'), /Rt on \d{4}-\d\d-\d\d: [\d.]+, 95% credible interval/);
    // Keyboard: focus the third row and press Enter.
    await page.focus('#regions tbody tr:nth-child(3)');
    await page.keyboard.press('Enter');
    await page.waitForFunction((name) => document.getElementById('detail-title').textContent.startsWith(name), rows[2][0], { timeout: 10000 });
    // The outbreak raised an alert; acknowledge it.
    await page.waitForSelector('#alerts li', { timeout: 10000 });
    const before = await page.$$eval('#alerts li', (l) => l.length);
    assert.match(await page.textContent('#alerts li'), /Harbor District/);
    const shot = `${process.env.MV_BUILD_DIR || '.'}/e2e-surveillance.png`;
    await page.screenshot({ path: shot, fullPage: true });
    await page.click('#alerts li button');
    await page.waitForFunction((n) => document.querySelectorAll('#alerts li').length === n - 1, before, { timeout: 10000 });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    const r = await s.stop();
    assert.equal(r.code, 0);
  }
});
