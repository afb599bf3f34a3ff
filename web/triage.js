// SPDX-License-Identifier: Apache-2.0
// Triage chat page: signs in (POST /auth/token, password grant), opens
// /ws/triage with the token as access_token (browsers cannot set headers on
// a WebSocket), sends the first description as {"type":"start"}, shows the
// differential, red flags and the follow-up question with yes/no/unsure
// buttons ({"type":"answer"}), and the advice when the session is complete
// (docs/TRIAGE.md "WebSocket"). Text is rendered with textContent only.
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('mv-token');
let ws = null;
let session = null; // the last session view

function say(cls, text) {
  const li = document.createElement('li');
  li.className = cls;
  li.textContent = text;
  $('log').appendChild(li);
  li.scrollIntoView({ block: 'end' });
}

function setConn(on) {
  $('conn').textContent = on ? 'connected' : 'offline';
  $('conn').className = `conn ${on ? 'conn-on' : 'conn-off'}`;
}

function connect() {
  if (ws) ws.close();
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws = new WebSocket(`${proto}//${location.host}/ws/triage?access_token=${encodeURIComponent(token)}`);
  ws.onopen = () => setConn(true);
  ws.onclose = () => { setConn(false); ws = null; };
  ws.onmessage = (ev) => show(JSON.parse(ev.data));
}

function send(msg) {
  if (!ws || ws.readyState !== WebSocket.OPEN) {
    say('err', 'Not connected: reconnecting, please send again.');
    connect();
    return;
  }
  ws.send(JSON.stringify(msg));
}

function pct(p) { return `${Math.round(p * 100)}%`; }

function show(m) {
  if (m.type === 'error') {
    if (m.status === 401) { logout(); return; }
    say('err', m.message + (m.field ? ` (${m.field})` : ''));
    return;
  }
  const s = m.session;
  session = s;
  const zh = s.lang === 'zh';
  if (s.redFlag) {
    say('bot emergency', s.advice || (zh ? '请立即拨打120。' : 'Call emergency services now.'));
  }
  if (s.differential && s.differential.length && s.status !== 'complete') {
    say('bot', (zh ? '可能的情况：' : 'Possible conditions so far: ') +
      s.differential.map((d) => `${d.label} ${pct(d.p)}`).join(', '));
  }
  if (s.status === 'asking' && s.question) {
    say('bot', s.question.question);
    $('answers').hidden = false;
    $('say').hidden = true;
    return;
  }
  $('answers').hidden = true;
  $('say').hidden = false;
  if (s.status === 'complete') {
    const lines = [];
    if (s.differential && s.differential.length)
      lines.push((zh ? '结果：' : 'Result: ') + s.differential.map((d) => `${d.label} ${pct(d.p)}`).join(', '));
    if (s.urgency) lines.push((zh ? '紧急程度：' : 'Urgency: ') + s.urgency);
    if (s.advice && !s.redFlag) lines.push(s.advice);
    if (s.disclaimer) lines.push(s.disclaimer);
    say('bot', lines.join('\n'));
    session = null;
  }
}

$('say').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = $('text').value.trim();
  if (!text) return;
  say('me', text);
  $('text').value = '';
  send({ type: 'start', text });
});

$('answers').addEventListener('click', (ev) => {
  const a = ev.target.getAttribute('data-a');
  if (!a || !session || !session.question) return;
  say('me', ev.target.textContent);
  send({ type: 'answer', session: session.id, concept: session.question.concept, answer: a });
});

$('finish').addEventListener('click', () => {
  if (session) send({ type: 'finish', session: session.id });
});

$('new').addEventListener('click', () => {
  session = null;
  $('log').textContent = '';
  $('answers').hidden = true;
  $('say').hidden = false;
});

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
    showChat();
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
  }
});

function logout() {
  token = null;
  sessionStorage.removeItem('mv-token');
  if (ws) ws.close();
  $('chat-view').hidden = true;
  $('login-view').hidden = false;
}
$('logout').addEventListener('click', logout);

function showChat() {
  $('login-view').hidden = true;
  $('chat-view').hidden = false;
  connect();
}

if (token) showChat();
