// SPDX-License-Identifier: Apache-2.0
// `medverse admin`: accounts, devices and the site key, with the server
// stopped and while `medverse serve` runs on the same data directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run, start, tempDir } from './helpers.mjs';

const PW = 'correct horse battery staple';

function admin(args, { input, env } = {}) {
  return run(['admin', ...args], {
    input: input ?? '',
    env: env ? { ...process.env, ...env } : process.env,
    timeout: 60000,
  });
}

function ok(r) {
  assert.equal(r.status, 0, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

// Parse `admin user list` into { username: { role, status } }.
function listUsers(dir, env) {
  const r = ok(admin(['user', 'list', ...(dir ? ['--data-dir', dir] : [])], { env }));
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^USERNAME\s+ROLE\s+STATUS$/);
  const users = {};
  for (const l of lines.slice(1)) {
    const [name, role, status] = l.trim().split(/\s+/);
    users[name] = { role, status };
  }
  assert.doesNotMatch(r.stdout, /argon2/);
  return users;
}

async function tokenStatus(url, form) {
  const res = await fetch(`${url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const body = await res.text();
  return { status: res.status, body };
}

test('medverse --help lists admin; every admin level has --help', () => {
  assert.match(run(['--help']).stdout, /\badmin\b/);
  const top = ok(admin(['--help']));
  for (const c of ['user add', 'user list', 'user disable', 'user passwd', 'device add', 'key rotate'])
    assert.ok(top.stdout.includes(c), `${c} in admin --help`);
  assert.match(ok(admin(['user', '--help'])).stdout, /user passwd USERNAME/);
  const leaves = [
    [['user', 'add'], ['--role', '--password-stdin', '--fhir-id', '--org', '--data-dir', 'first logs in']],
    [['user', 'list'], ['--data-dir']],
    [['user', 'disable'], ['--data-dir']],
    [['user', 'passwd'], ['--password-stdin', '--data-dir']],
    [['device', 'add'], ['--patient', '--data-dir', 'client_credentials']],
    [['key', 'rotate'], ['--data-dir']],
  ];
  for (const [words, flags] of leaves) {
    const r = ok(admin([...words, '--help']));
    assert.match(r.stdout, new RegExp(`usage: medverse admin ${words.join(' ')}`));
    for (const f of flags) assert.ok(r.stdout.includes(f), `${f} in ${words.join(' ')} --help`);
    assert.match(r.stdout, /server stopped or running/);
  }
});

test('usage errors exit 2 with a message naming the problem', () => {
  const dir = tempDir('mv-admin-');
  for (const [args, re] of [
    [[], /usage: medverse admin/],
    [['frob'], /unknown command 'frob'/],
    [['user'], /usage: medverse admin user/],
    [['user', 'frob'], /unknown command 'frob'/],
    [['--data-dir', dir], /unknown command '--data-dir'/],
  ]) {
    const r = admin(args);
    assert.equal(r.status, 2, `${args.join(' ')} -> ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
  }
  const cases = [
    [['user', 'add', '--role', 'patient', '--password-stdin'], {}, /missing USERNAME/],
    [['user', 'add', 'al'], { input: `${PW}\n` }, /--role is required/],
    [['user', 'add', 'al', '--role', 'root', '--password-stdin'], {}, /--role must be/],
    [['user', 'add', 'al', '--role', 'device', '--password-stdin'], {}, /device add/],
    [['user', 'add', 'al', '--role', 'patient'], {}, /--password-stdin is required/],
    [['user', 'add', 'a b', '--role', 'patient', '--password-stdin'], {}, /USERNAME must be/],
    [['user', 'add', 'al', '--role', 'patient', '--password-stdin', '--fhir-id', 'x/y'], {}, /--fhir-id must be/],
    [['user', 'add', 'al', '--role', 'patient', '--password-stdin'], { input: 'short\n' }, /8 to 1024 bytes/],
    [['user', 'add', 'al', '--role', 'patient', '--password-stdin'], { input: '' }, /8 to 1024 bytes/],
    [['user', 'add', 'al', '--role', 'patient', '--password-stdin'], { input: 'x'.repeat(1025) }, /8 to 1024 bytes/],
    [['user', 'list', '--role', 'admin'], {}, /unknown flag '--role'/],
    [['user', 'list', 'extra'], {}, /unexpected argument 'extra'/],
    [['user', 'passwd', 'al'], {}, /--password-stdin is required/],
    [['device', 'add', 'dev'], {}, /--patient is required/],
    [['device', 'add', 'dev', '--patient', 'a b'], {}, /--patient must be/],
  ];
  for (const [args, opts, re] of cases) {
    const r = admin([...args, '--data-dir', dir], opts);
    assert.equal(r.status, 2, `${args.join(' ')} -> ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
  }
  // None of them created an account.
  assert.deepEqual(listUsers(dir), {});
  rmSync(dir, { recursive: true, force: true });
});

test('add, list, disable, passwd, device add and key rotate with the server stopped', () => {
  const dir = tempDir('mv-admin-');
  const d = ['--data-dir', dir];
  // Patient and clinician get a new FHIR id; --fhir-id and --org are kept.
  let r = ok(admin(['user', 'add', 'alice', '--role', 'patient', '--password-stdin', ...d], { input: `${PW}\n` }));
  const alice = r.stdout.match(/user alice added \(role patient, Patient\/([0-9a-f-]{36})\)/);
  assert.ok(alice, r.stdout);
  r = ok(admin(['user', 'add', 'bob', '--role', 'clinician', '--password-stdin', ...d], { input: `${PW}\r\n` }));
  assert.match(r.stdout, /role clinician, Practitioner\/[0-9a-f-]{36}/);
  r = ok(admin(['user', 'add', 'carol', '--role', 'clinician', '--fhir-id', 'prac-7', '--org', 'org.1',
    '--password-stdin', ...d], { input: PW }));
  assert.match(r.stdout, /Practitioner\/prac-7/);
  r = ok(admin(['user', 'add', 'root@site', '--role=admin', '--password-stdin', ...d], { input: `${PW}\n` }));
  assert.match(r.stdout, /user root@site added \(role admin\)/);
  ok(admin(['user', 'add', 'audrey', '--role', 'auditor', '--password-stdin', ...d], { input: `${PW}\n` }));

  r = admin(['user', 'add', 'alice', '--role', 'clinician', '--password-stdin', ...d], { input: `${PW}\n` });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /user exists/);

  // The flag may come before the positional argument.
  r = ok(admin(['device', 'add', '--patient', alice[1], 'pulse-ox-1', ...d]));
  const id = r.stdout.match(/^client_id: (\S+)$/m);
  const secret = r.stdout.match(/^client_secret: ([A-Za-z0-9_-]{43})$/m);
  assert.equal(id?.[1], 'pulse-ox-1');
  assert.ok(secret, r.stdout);
  r = admin(['device', 'add', 'pulse-ox-1', '--patient', alice[1], ...d]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /user exists/);

  let users = listUsers(dir);
  assert.deepEqual(users, {
    alice: { role: 'patient', status: 'active' },
    audrey: { role: 'auditor', status: 'active' },
    bob: { role: 'clinician', status: 'active' },
    carol: { role: 'clinician', status: 'active' },
    'pulse-ox-1': { role: 'device', status: 'active' },
    'root@site': { role: 'admin', status: 'active' },
  });

  r = ok(admin(['user', 'disable', 'alice', ...d]));
  assert.match(r.stdout, /alice disabled/);
  assert.match(ok(admin(['user', 'disable', 'alice', ...d])).stdout, /already disabled/);
  r = admin(['user', 'disable', 'nobody', ...d]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no such user/);
  assert.equal(listUsers(dir).alice.status, 'disabled');

  ok(admin(['user', 'passwd', 'bob', '--password-stdin', ...d], { input: 'another long password\n' }));
  r = admin(['user', 'passwd', 'nobody', '--password-stdin', ...d], { input: `${PW}\n` });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no such user/);

  const keyFile = join(dir, 'site.key');
  assert.match(ok(admin(['key', 'rotate', ...d])).stdout, /site key rotated/);
  assert.match(ok(admin(['key', 'rotate', ...d])).stdout, /site key rotated/);
  assert.equal(statSync(keyFile).mode & 0o077, 0, 'key file private');

  // --data-dir may come from the environment like for the other commands.
  users = listUsers(null, { MEDVERSE_DATA_DIR: dir });
  assert.equal(Object.keys(users).length, 6);
  rmSync(dir, { recursive: true, force: true });
});

test('admin commands work while the server runs on the same data dir', async (t) => {
  const s = await start('serve');
  t.after(() => s.proc.kill('SIGKILL'));
  const d = ['--data-dir', s.dataDir];
  let r = ok(admin(['user', 'add', 'dana', '--role', 'clinician', '--password-stdin', ...d], { input: `${PW}\n` }));
  assert.match(r.stdout, /user dana added/);
  r = ok(admin(['user', 'add', 'pat', '--role', 'patient', '--password-stdin', ...d], { input: `${PW}\n` }));
  const patient = r.stdout.match(/Patient\/([0-9a-f-]{36})/)[1];
  r = ok(admin(['device', 'add', 'scale-1', '--patient', patient, ...d]));
  const secret = r.stdout.match(/^client_secret: (\S+)$/m)[1];
  ok(admin(['user', 'add', 'eve', '--role', 'auditor', '--password-stdin', ...d], { input: `${PW}\n` }));
  ok(admin(['user', 'disable', 'eve', ...d]));
  ok(admin(['user', 'passwd', 'dana', '--password-stdin', ...d], { input: 'a brand new password\n' }));
  ok(admin(['key', 'rotate', ...d]));
  assert.deepEqual(listUsers(s.dataDir), {
    dana: { role: 'clinician', status: 'active' },
    eve: { role: 'auditor', status: 'disabled' },
    pat: { role: 'patient', status: 'active' },
    'scale-1': { role: 'device', status: 'active' },
  });

  // The server is unaffected.
  const info = await fetch(`${s.url}/api/info`);
  assert.equal(info.status, 200);

  // Where POST /auth/token exists, the server sees the changes at once.
  const probe = await tokenStatus(s.url, { grant_type: 'password', username: 'dana', password: 'a brand new password' });
  if (probe.status === 404) {
    t.diagnostic('POST /auth/token is not routed yet: login checks skipped');
  } else {
    assert.equal(probe.status, 200, probe.body);
    assert.equal(JSON.parse(probe.body).token_type, 'Bearer');
    // OAuth 2.0 (RFC 6749 §5.2) answers bad credentials with 400
    // invalid_grant or 401 invalid_client.
    const old = await tokenStatus(s.url, { grant_type: 'password', username: 'dana', password: PW });
    assert.ok([400, 401].includes(old.status), `${old.status} ${old.body}`);
    const disabled = await tokenStatus(s.url, { grant_type: 'password', username: 'eve', password: PW });
    assert.ok([400, 401].includes(disabled.status), `${disabled.status} ${disabled.body}`);
    const dev = await tokenStatus(s.url, { grant_type: 'client_credentials', client_id: 'scale-1', client_secret: secret });
    assert.equal(dev.status, 200, dev.body);
  }

  const stopped = await s.stop();
  assert.equal(stopped.code, 0, s.stderr());
  assert.doesNotMatch(s.stderr(), new RegExp(secret));
});
