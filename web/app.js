// SPDX-License-Identifier: Apache-2.0
// Live vital-signs board: lists patients from the server and subscribes to
// the "vitals" topic of the /ws pub/sub hub. Each update arrives only after
// the server has stored its Observations durably.
const grid = document.getElementById('patients');
const conn = document.getElementById('conn');
const cards = new Map();
const HISTORY = 60;

const VITALS = [
  ['hr', 'Heart rate', '/min'],
  ['spo2', 'SpO₂', '%'],
  ['bp', 'Blood pressure', 'mmHg'],
  ['rr', 'Resp. rate', '/min'],
  ['temp', 'Temperature', '°C'],
];

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function card(p) {
  let c = cards.get(p.id);
  if (c) return c;
  const root = el('article', 'card');
  root.dataset.patient = p.id;
  root.append(el('h3', '', p.name || p.id));
  root.append(el('div', 'meta', `${p.id} · simulated (${p.profile || 'stable'})`));
  const vit = el('div', 'vitals');
  const values = {};
  for (const [key, label, unit] of VITALS) {
    const box = el('div', 'vital');
    box.append(el('div', 'label', label));
    const v = el('span', 'value', '–');
    v.dataset.vital = key;
    box.append(v, el('span', 'unit', unit));
    vit.append(box);
    values[key] = v;
  }
  root.append(vit);
  const spark = el('canvas', 'spark');
  spark.width = 300; spark.height = 36;
  spark.setAttribute('aria-label', 'heart rate trend');
  root.append(spark);
  grid.append(root);
  c = { root, values, spark, hr: [] };
  cards.set(p.id, c);
  document.getElementById('empty').hidden = true;
  document.getElementById('count').textContent = `(${cards.size} patients)`;
  return c;
}

function drawSpark(c) {
  const g = c.spark.getContext('2d');
  const w = c.spark.width, h = c.spark.height;
  g.clearRect(0, 0, w, h);
  if (c.hr.length < 2) return;
  const lo = Math.min(...c.hr) - 2, hi = Math.max(...c.hr) + 2;
  g.strokeStyle = '#0b6e99'; g.lineWidth = 1.5; g.beginPath();
  c.hr.forEach((v, i) => {
    const x = (i / Math.max(c.hr.length - 1, 1)) * w;
    const y = h - ((v - lo) / (hi - lo)) * h;
    i ? g.lineTo(x, y) : g.moveTo(x, y);
  });
  g.stroke();
}

function update(d) {
  const c = card({ id: d.patient, name: d.name, profile: d.profile });
  c.values.hr.textContent = d.hr;
  c.values.spo2.textContent = d.spo2;
  c.values.bp.textContent = `${d.sbp}/${d.dbp}`;
  c.values.rr.textContent = d.rr;
  c.values.temp.textContent = Number(d.temp).toFixed(1);
  c.hr.push(d.hr);
  if (c.hr.length > HISTORY) c.hr.shift();
  drawSpark(c);
}

async function loadPatients() {
  try {
    const r = await fetch('/api/demo/patients');
    if (r.ok) for (const p of await r.json()) card(p);
  } catch { /* not in demo mode: patients appear as data arrives */ }
  try {
    const info = await (await fetch('/api/info')).json();
    document.getElementById('version').textContent = `medverse ${info.version}`;
  } catch { /* optional */ }
}

function connect(delay = 500) {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  ws.onopen = () => {
    conn.textContent = 'live'; conn.className = 'conn conn-on';
    ws.send(JSON.stringify({ op: 'subscribe', topic: 'vitals' }));
  };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.topic === 'vitals' && m.data) update(m.data);
  };
  ws.onclose = () => {
    conn.textContent = 'reconnecting…'; conn.className = 'conn conn-off';
    setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
  };
}

loadPatients().then(() => connect());
