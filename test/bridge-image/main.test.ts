import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveAgentKey } from '../../bridge-image/protocol/index.js';
import { BRIDGE_JS, startBridge, tempDir } from '../helpers/bridge-process.js';

const run = (args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) =>
  spawnSync(process.execPath, [BRIDGE_JS, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, LIGHTHOUSE_AUTH_SECRET_FILE: '', ...opts.env },
    encoding: 'utf8',
    timeout: 20_000,
  });

describe('the bridge command', () => {
  it('refuses to start without a master secret, saying how to give one', () => {
    const dir = tempDir();
    const r = run(['--port', '0', '--data-dir', path.join(dir, 'd'), '--workspace', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no master secret: set LIGHTHOUSE_AUTH_SECRET_FILE/);
  });

  it('refuses a secret that is too short', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 's'), 'abcd');
    const r = run(['--port', '0', '--data-dir', path.join(dir, 'd'), '--secret-file', path.join(dir, 's')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/64 hex characters/);
  });

  it('refuses to start on a damaged store, and says so', async () => {
    const b = await startBridge();
    const c = b.agent('filler');
    for (let i = 0; i < 40; i++) {
      await c.append({
        events: Array.from({ length: 20 }, () => ({ type: 'custom.pad', data: 'z'.repeat(400) })),
      });
    }
    expect(await b.stop()).toBe(0);
    const file = path.join(b.dataDir, 'events.db');
    const buf = fs.readFileSync(file);
    for (let i = 4096 * 3; i < buf.length - 4096; i += 1) buf[i] = 0xa5;
    fs.writeFileSync(file, buf);
    const r = run(['--port', '0', '--data-dir', b.dataDir, '--secret-file', b.secretFile]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/event store at .* is damaged/);
    expect(r.stderr).toMatch(/Refusing to start/);
  });

  it('explains an unknown option and a bad port', () => {
    expect(run(['--bogus']).stderr).toMatch(/unknown option --bogus/);
    expect(run(['--port', 'abc']).stderr).toMatch(/--port must be 0-65535/);
  });

  it('native mode creates a 0600 secret on first run, prints how to connect, and reuses it', async () => {
    const cwd = tempDir();
    const start = () =>
      new Promise<{ out: string; proc: ReturnType<typeof spawn> }>((resolve, reject) => {
        const proc = spawn(process.execPath, [BRIDGE_JS, '--native', '--port', '0'], {
          cwd,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('Stop with Ctrl-C')) resolve({ out, proc });
        });
        proc.on('exit', (code) => reject(new Error(`exited ${code}`)));
      });
    const first = await start();
    const secretFile = path.join(cwd, '.lighthouse', 'secret');
    expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(first.out).toContain(`master secret:  ${secretFile} (created now, mode 0600)`);
    expect(first.out).toMatch(/Lighthouse bridge ready at http:\/\/127\.0\.0\.1:\d+/);
    expect(first.out).toContain('claude mcp add lighthouse');
    // The view is mounted outside the project, on a path with no dot segment, and /ready says where.
    const view = /FUSE view: {6}(\S+) \(current\//.exec(first.out)?.[1];
    const url = /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(first.out)![1]!;
    const ready = (await (await fetch(`${url}/ready`)).json()) as { fuse: { mountPoint: string | null } };
    if (view) {
      expect(view.startsWith(cwd + '/')).toBe(false);
      expect(view.split('/').some((seg) => seg.startsWith('.'))).toBe(false);
      expect(ready.fuse.mountPoint).toBe(view);
      expect(first.out).toMatch(/dist\/lighthouse\.js agent claude --bridge http:\/\/127\.0\.0\.1:\d+/);
      expect(fs.readdirSync(view).sort()).toEqual(['context', 'current', 'history', 'shadows', 'streams']);
      expect(fs.readdirSync(cwd)).toEqual(['.lighthouse']);
      expect(fs.readdirSync(path.join(cwd, '.lighthouse')).sort()).toEqual(['data', 'keys', 'secret']);
    } else {
      expect(first.out).toMatch(/FUSE view: {6}off \(.+\)/);
    }
    expect(first.out).toContain('--key-file');
    expect(first.out).not.toContain(fs.readFileSync(secretFile, 'utf8').trim());
    const keyFile = path.join(cwd, '.lighthouse', 'keys', 'claude.key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const secret = Buffer.from(fs.readFileSync(secretFile, 'utf8').trim(), 'hex');
    expect(fs.readFileSync(keyFile, 'utf8').trim()).toBe(deriveAgentKey(secret, 'claude').toString('hex'));
    expect(fs.existsSync(path.join(cwd, '.lighthouse', 'data', 'events.db'))).toBe(true);
    first.proc.kill('SIGTERM');
    await new Promise((r) => first.proc.once('exit', r));
    // The mount point the bridge made goes with the view.
    if (view) expect(fs.existsSync(view)).toBe(false);
    const before = fs.readFileSync(secretFile, 'utf8');
    const second = await start();
    expect(second.out).not.toContain('created now');
    expect(fs.readFileSync(secretFile, 'utf8')).toBe(before);
    second.proc.kill('SIGTERM');
    await new Promise((r) => second.proc.once('exit', r));
  });

  it('writes agent keys with `key`', () => {
    const dir = tempDir();
    const secret = randomBytes(32);
    fs.writeFileSync(path.join(dir, 'secret'), secret.toString('hex'), { mode: 0o600 });
    const out = path.join(dir, 'k', 'bob.key');
    const r = run(['key', 'bob', '--secret-file', path.join(dir, 'secret'), '--out', out]);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(out, 'utf8').trim()).toBe(deriveAgentKey(secret, 'bob').toString('hex'));
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(run(['key', '../evil', '--secret-file', path.join(dir, 'secret')]).stderr).toMatch(/agent id/);
  });

  it('backs up, exports and imports from the command line, giving back the same events', async () => {
    const b = await startBridge();
    const c = b.agent('archivist');
    for (let i = 0; i < 25; i++) await c.append({ events: [{ type: 'custom.rec', data: { i } }] });
    const online = await b.admin().backup('online.db');
    expect(online.bytes).toBeGreaterThan(0);
    expect(fs.existsSync(online.path)).toBe(true);
    expect(await b.stop()).toBe(0);
    const dir = tempDir();
    const exportFile = path.join(dir, 'events.jsonl');
    expect(run(['export', '--data-dir', b.dataDir, '--out', exportFile]).status).toBe(0);
    const backup = run(['backup', '--data-dir', b.dataDir, '--to', path.join(dir, 'copy.db')]);
    expect(backup.stdout).toMatch(/backup written/);
    const restored = path.join(dir, 'restored');
    const imp = run(['import', '--data-dir', restored, '--from', exportFile]);
    expect(imp.stdout).toMatch(/imported \d+ events/);
    const again = run(['import', '--data-dir', restored, '--from', exportFile]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/empty store/);
    const reExport = path.join(dir, 'again.jsonl');
    run(['export', '--data-dir', restored, '--out', reExport]);
    expect(fs.readFileSync(reExport, 'utf8')).toBe(fs.readFileSync(exportFile, 'utf8'));
    const fromBackup = path.join(dir, 'from-backup.jsonl');
    fs.mkdirSync(path.join(dir, 'bk'));
    fs.copyFileSync(path.join(dir, 'copy.db'), path.join(dir, 'bk', 'events.db'));
    run(['export', '--data-dir', path.join(dir, 'bk'), '--out', fromBackup]);
    expect(fs.readFileSync(fromBackup, 'utf8')).toBe(fs.readFileSync(exportFile, 'utf8'));
  });

  it('says so when the port is taken', async () => {
    const b = await startBridge();
    const r = run([
      '--port',
      String(b.port),
      '--data-dir',
      path.join(tempDir(), 'd'),
      '--secret-file',
      b.secretFile,
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/port is already in use/);
    await b.stop();
  });
});
