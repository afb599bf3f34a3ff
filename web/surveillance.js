// SPDX-License-Identifier: Apache-2.0
// Surveillance page: signs in (POST /auth/token, password grant), lists the
// regions by risk from GET /surveillance/regions, and for the chosen region
// draws counts with the detection threshold and alarm marks, Rt with its
// credible-interval ribbon and the forecast, from GET /surveillance/series,
// on <canvas> with our own code. Alerts arrive live on the "surveillance"
// topic of the /ws hub and are acknowledged with one button.
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('mv-token');
let selected = null; // {region, disease}

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401) { logout(); throw new Error('signed out'); }
  const j = await r.json().catch(() => null);
  if (!r.ok) throw new Error(j?.issue?.[0]?.diagnostics || `HTTP ${r.status}`);
  return j;
}

// ---- sign in ---------------------------------------------------------------
$('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const err = $('login-error');
  err.hidden = true;
  const body = new URLSearchParams({ grant_type: 'password', username: $('username').value, password: $('password').value });
  try {
    const r = await fetch('/auth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const j = await r.json();
    if (!r.ok) throw new Error(j.error_description || 'sign-in failed');
    token = j.access_token;
    sessionStorage.setItem('mv-token', token);
    await showApp();
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
  }
});

function logout() {
  token = null;
  sessionStorage.removeItem('mv-token');
  $('app-view').hidden = true;
  $('login-view').hidden = false;
}
$('logout').addEventListener('click', logout);

async function showApp() {
  try {
    await loadRegions();
  } catch (e) {
    if (token) { // e.g. 403: this account is not public-health
      $('login-error').textContent = e.message;
      $('login-error').hidden = false;
      logout();
    }
    return;
  }
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  await loadAlerts();
  connect();
  const first = document.querySelector('#regions tbody tr');
  if (first && !selected) first.click();
}

// ---- regions and alerts ------------------------------------------------------
const fmt = (v, d = 1) => (v === null || v === undefined ? '–' : Number(v).toFixed(d));

async function loadRegions() {
  const disease = $('disease').value;
  const j = await api('GET', '/surveillance/regions' + (disease ? `?disease=${encodeURIComponent(disease)}` : ''));
  $('last-run').textContent = j.lastRun ? `last run ${j.lastRun.replace('T', ' ').slice(0, 16)} UTC` : '';
  const tbody = document.querySelector('#regions tbody');
  tbody.replaceChildren();
  const diseases = new Set([...$('disease').options].map((o) => o.value));
  for (const r of j.regions) {
    if (!diseases.has(r.disease)) { $('disease').append(el('option', { value: r.disease }, r.disease)); diseases.add(r.disease); }
    const l = r.latest || {};
    const tr = el('tr', { tabindex: '0', 'aria-selected': 'false' });
    if (l.alarm) tr.className = 'alarm';
    tr.append(el('td', {}, r.region), el('td', {}, r.disease), el('td', {}, l.date || ''),
      el('td', { class: 'num' }, fmt(l.observed, 0)), el('td', { class: 'num' }, fmt(l.upperbound)),
      el('td', { class: 'num' }, l.rtMean == null ? '–' : `${fmt(l.rtMean, 2)} (${fmt(l.rtLower, 2)}–${fmt(l.rtUpper, 2)})`),
      el('td', { class: 'num' }, fmt(r.risk, 2)));
    const choose = () => {
      for (const x of tbody.children) x.setAttribute('aria-selected', 'false');
      tr.setAttribute('aria-selected', 'true');
      loadSeries(r.region, r.disease);
    };
    tr.addEventListener('click', choose);
    tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); choose(); } });
    if (selected && selected.region === r.region && selected.disease === r.disease) tr.setAttribute('aria-selected', 'true');
    tbody.append(tr);
  }
  $('regions-empty').hidden = j.regions.length > 0;
}
$('disease').addEventListener('change', () => loadRegions().catch(() => {}));

async function loadAlerts() {
  const j = await api('GET', '/surveillance/alerts?status=open');
  const ul = $('alerts');
  ul.replaceChildren();
  for (const a of j.alerts) {
    const li = el('li');
    li.append(el('span', {}, `${a.region} · ${a.disease} · ${a.date}: ${a.observed} cases (threshold ${fmt(a.upperbound)}, ${a.method})`));
    const b = el('button', { type: 'button', 'aria-label': `acknowledge alert for ${a.region} on ${a.date}` }, 'Acknowledge');
    b.addEventListener('click', async () => { await api('POST', `/surveillance/alerts/${a.id}/ack`); loadAlerts(); });
    li.append(b);
    ul.append(li);
  }
  $('alert-count').textContent = `(${j.alerts.length})`;
}

$('run').addEventListener('click', async () => {
  $('run').disabled = true;
  try {
    await api('POST', '/surveillance/run');
    await Promise.all([loadRegions(), loadAlerts()]);
    if (selected) await loadSeries(selected.region, selected.disease);
  } finally { $('run').disabled = false; }
});

// ---- charts -------------------------------------------------------------------
const DAY = 86400000;
const t = (d) => Date.parse(d + 'T00:00:00Z');

function frame(canvas, x0, x1, y0, y1) {
  const g = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height, L = 46, R = 10, T = 10, B = 26;
  g.clearRect(0, 0, W, H);
  g.fillStyle = '#fff'; g.fillRect(0, 0, W, H);
  if (y1 <= y0) y1 = y0 + 1;
  const X = (v) => L + ((v - x0) / Math.max(x1 - x0, 1)) * (W - L - R);
  const Y = (v) => H - B - ((v - y0) / (y1 - y0)) * (H - T - B);
  g.strokeStyle = '#d5dde5'; g.fillStyle = '#5b6b7c'; g.font = '11px system-ui, sans-serif'; g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    g.beginPath(); g.moveTo(L, Y(v)); g.lineTo(W - R, Y(v)); g.stroke();
    g.textAlign = 'right'; g.fillText(v >= 10 ? v.toFixed(0) : v.toFixed(1), L - 4, Y(v) + 4);
  }
  for (let i = 0; i <= 4; i++) {
    const v = x0 + ((x1 - x0) * i) / 4;
    g.textAlign = i === 0 ? 'left' : i === 4 ? 'right' : 'center';
    g.fillText(new Date(v).toISOString().slice(0, 10), X(v), H - 8);
  }
  return { g, X, Y };
}

function line(g, pts, color, width = 1.5, dash = []) {
  g.strokeStyle = color; g.lineWidth = width; g.setLineDash(dash); g.beginPath();
  let on = false;
  for (const [x, y] of pts) {
    if (y === null || y === undefined || Number.isNaN(x)) { on = false; continue; }
    on ? g.lineTo(x, y) : g.moveTo(x, y);
    on = true;
  }
  g.stroke(); g.setLineDash([]);
}

function band(g, pts, color) { // pts: [x, ylo, yhi]
  const ok = pts.filter((p) => p[1] !== null && p[2] !== null);
  if (ok.length < 2) return;
  g.fillStyle = color; g.beginPath();
  ok.forEach(([x, , hi], i) => (i ? g.lineTo(x, hi) : g.moveTo(x, hi)));
  for (let i = ok.length - 1; i >= 0; i--) g.lineTo(ok[i][0], ok[i][1]);
  g.closePath(); g.fill();
}

function drawCounts(s) {
  const c = $('chart-counts');
  const xs = s.points.map((p) => t(p.date));
  const ymax = Math.max(1, ...s.points.map((p) => Math.max(p.observed ?? 0, p.upperbound ?? 0)));
  const { g, X, Y } = frame(c, xs[0], xs.at(-1), 0, ymax * 1.08);
  const bw = Math.max(1, ((c.width - 56) / Math.max(xs.length, 1)) * 0.7);
  s.points.forEach((p, i) => {
    if (p.observed === null) return;
    g.fillStyle = p.alarm ? '#c62828' : '#7fb3cf';
    g.fillRect(X(xs[i]) - bw / 2, Y(p.observed), bw, Y(0) - Y(p.observed));
  });
  line(g, s.points.map((p, i) => [X(xs[i]), p.upperbound === null ? null : Y(p.upperbound)]), '#e08a00', 1.5, [5, 3]);
  g.fillStyle = '#c62828';
  s.points.forEach((p, i) => {
    if (!p.alarm) return;
    g.beginPath(); g.moveTo(X(xs[i]), Y(p.observed) - 10); g.lineTo(X(xs[i]) - 5, Y(p.observed) - 18); g.lineTo(X(xs[i]) + 5, Y(p.observed) - 18); g.fill();
  });
  const alarms = s.points.filter((p) => p.alarm).length;
  c.setAttribute('aria-label', `${s.region}: ${s.points.length} ${s.interval}s of counts, ${alarms} alarm(s); latest ${s.latest.observed} cases, threshold ${fmt(s.latest.upperbound)}`);
}

function drawRt(s) {
  const c = $('chart-rt');
  const rt = s.rt || [];
  if (!rt.length) { frame(c, 0, 1, 0, 1).g.fillText('Rt not available: ' + (s.notes || []).join('; '), c.width / 2, c.height / 2); return; }
  const xs = rt.map((e) => t(e.date));
  const ymax = Math.min(10, Math.max(2, ...rt.map((e) => e.upper ?? 0)));
  const { g, X, Y } = frame(c, xs[0], xs.at(-1), 0, ymax);
  band(g, rt.map((e, i) => [X(xs[i]), Y(Math.min(e.lower, ymax)), Y(Math.min(e.upper, ymax))]), 'rgba(11,110,153,.22)');
  line(g, [[X(xs[0]), Y(1)], [X(xs.at(-1)), Y(1)]], '#888', 1, [3, 3]);
  line(g, rt.map((e, i) => [X(xs[i]), Y(Math.min(e.mean, ymax))]), '#0b6e99', 2);
  const l = rt.at(-1);
  c.setAttribute('aria-label', `Rt on ${l.date}: ${fmt(l.mean, 2)}, 95% credible interval ${fmt(l.lower, 2)} to ${fmt(l.upper, 2)}`);
}

function drawForecast(s) {
  const c = $('chart-forecast');
  const fc = s.forecast || [];
  const hist = s.points.slice(-28);
  if (!fc.length) { frame(c, 0, 1, 0, 1).g.fillText('no forecast for this series', c.width / 2, c.height / 2); return; }
  const xs0 = hist.map((p) => t(p.date)), xs1 = fc.map((e) => t(e.date));
  const ymax = Math.max(1, ...hist.map((p) => p.observed ?? 0), ...fc.map((e) => e.bandUpper ?? e.upper ?? e.mean ?? 0)) * 1.1;
  const { g, X, Y } = frame(c, xs0[0], xs1.at(-1), 0, ymax);
  if (fc.every((e) => e.bandLower !== null && e.bandUpper !== null && e.bandLower !== undefined))
    band(g, fc.map((e, i) => [X(xs1[i]), Y(e.bandLower), Y(e.bandUpper)]), 'rgba(106,27,154,.16)');
  line(g, hist.map((p, i) => [X(xs0[i]), p.observed === null ? null : Y(p.observed)]), '#5b6b7c', 1.5);
  line(g, [[X(xs0.at(-1)), Y(hist.at(-1).observed ?? 0)], ...fc.map((e, i) => [X(xs1[i]), Y(e.mean)])], '#6a1b9a', 2, [6, 3]);
  const f = fc[0];
  if (f.lower !== null && f.upper !== null) {
    g.strokeStyle = '#6a1b9a'; g.lineWidth = 2; g.beginPath();
    g.moveTo(X(xs1[0]), Y(f.lower)); g.lineTo(X(xs1[0]), Y(f.upper)); g.stroke();
  }
  const z = fc.at(-1);
  c.setAttribute('aria-label', `forecast: ${fmt(f.mean)} cases expected on ${f.date} (95% ${fmt(f.lower, 0)}–${fmt(f.upper, 0)}), ${fmt(z.mean)} on ${z.date} (approximate 95% band ${fmt(z.bandLower, 0)}–${fmt(z.bandUpper, 0)})`);
}

async function loadSeries(region, disease) {
  selected = { region, disease };
  const s = await api('GET', `/surveillance/series?region=${encodeURIComponent(region)}&disease=${encodeURIComponent(disease)}`);
  $('detail-title').textContent = `${region} · ${disease}`;
  $('detail-notes').textContent = [`${s.method}, serial interval ${s.siMean} ± ${s.siSd} days`, ...(s.notes || [])].join(' · ');
  drawCounts(s);
  drawRt(s);
  drawForecast(s);
}

// ---- live updates ------------------------------------------------------------------
let ws = null;
function connect(delay = 500) {
  if (ws) return;
  ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  ws.onopen = () => {
    $('conn').textContent = 'live'; $('conn').className = 'conn conn-on';
    ws.send(JSON.stringify({ op: 'subscribe', topic: 'surveillance' }));
  };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.topic !== 'surveillance' || !m.data || !token) return;
    loadAlerts().catch(() => {});
    if (m.data?.type === 'run') loadRegions().catch(() => {});
  };
  ws.onclose = () => {
    ws = null;
    $('conn').textContent = 'reconnecting…'; $('conn').className = 'conn conn-off';
    setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
  };
}

if (token) showApp();
