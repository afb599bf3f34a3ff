// SPDX-License-Identifier: Apache-2.0
// The live dashboard in a real browser (Debian's chromium driven by
// playwright-core): the page renders, states that medverse is not a certified
// medical device, shows every simulated patient, and the numbers change as
// new vitals stream in. Saves a screenshot to build/.../e2e-dashboard.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { start } from '../integration/helpers.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

test('dashboard shows live simulated patients', { skip: !existsSync(CHROMIUM) && `no browser at ${CHROMIUM}` }, async () => {
  const s = await start('demo', ['--demo-patients', '5', '--demo-interval-ms', '250']);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(s.url);
    await page.waitForSelector('.conn-on', { timeout: 10000 });
    await page.waitForFunction(() => document.querySelectorAll('.card [data-vital="hr"]').length === 5
      && [...document.querySelectorAll('.card [data-vital="hr"]')].every((e) => /^\d+$/.test(e.textContent)), null, { timeout: 10000 });
    const notice = await page.textContent('.notice');
    assert.match(notice, /Not a certified medical device/);
    const names = await page.$$eval('.card h3', (hs) => hs.map((h) => h.textContent));
    assert.equal(names.length, 5);
    const bp = await page.textContent('.card [data-vital="bp"]');
    assert.match(bp, /^\d+\/\d+$/);
    // Values keep streaming: the sparkline data grows and a reading changes.
    const before = await page.$$eval('.card [data-vital]', (es) => es.map((e) => e.textContent).join(','));
    await page.waitForFunction((b) => [...document.querySelectorAll('.card [data-vital]')].map((e) => e.textContent).join(',') !== b,
      before, { timeout: 10000 });
    const shot = `${process.env.MV_BUILD_DIR || '.'}/e2e-dashboard.png`;
    await page.screenshot({ path: shot, fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    const r = await s.stop();
    assert.equal(r.code, 0);
  }
});
