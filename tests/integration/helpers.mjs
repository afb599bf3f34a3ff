// SPDX-License-Identifier: Apache-2.0
// Shared helpers for integration tests: run the real `medverse` binary
// (MV_BIN, set by ctest) on a random loopback port with a temp data dir.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Not MEDVERSE_*: the server rejects unknown MEDVERSE_ variables.
export const BIN = process.env.MV_BIN;
export const SRC = process.env.MV_SOURCE_DIR;
if (!BIN) throw new Error('MV_BIN is not set (run through ctest)');

export function tempDir(prefix = 'mv-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function run(args, opts = {}) {
  return spawnSync(BIN, args, { encoding: 'utf8', timeout: 30000, ...opts });
}

// Start `medverse <cmd> --listen 127.0.0.1:0 ...` and resolve once it prints
// its "listening on" line. Returns { proc, url, stdout(), stderr(), stop() }.
export function start(cmd, args = [], { env = {}, timeoutMs = 20000 } = {}) {
  const dataDir = tempDir('mv-data-');
  const proc = spawn(BIN, [cmd, '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '', err = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL'); // never leave a server behind a failed start
      reject(new Error(`server not ready in ${timeoutMs} ms\n${err}`));
    }, timeoutMs);
    proc.stdout.on('data', () => {
      const m = out.match(/^listening on (https?:\/\/\S+)$/m);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`server exited with ${code}\n${err}`)); });
  });
  return ready.then((url) => ({
    proc, url, dataDir, exited,
    stdout: () => out,
    stderr: () => err,
    async stop(signal = 'SIGTERM') {
      const t0 = Date.now();
      proc.kill(signal);
      const r = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      return { ...r, ms: Date.now() - t0 };
    },
  }));
}
