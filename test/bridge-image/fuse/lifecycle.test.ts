import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBridge, tempDir } from '../../helpers/bridge-process.js';
import { traversalCorpus } from '../shadow/traversal-corpus.js';

const fuseAvailable = fs.existsSync('/dev/fuse') && process.getuid?.() === 0;
const mounted = (mnt: string) =>
  fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === mnt);
const daemonPids = (parent: number) =>
  execFileSync('ps', ['-o', 'pid=,ppid=,args=', '-e'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('fuse-daemon.js'))
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter(([, ppid]) => ppid === parent)
    .map(([pid]) => pid!);

describe.skipIf(!fuseAvailable)('the FUSE mount over its life', () => {
  it('unmounts cleanly on SIGTERM', async () => {
    const mnt = path.join(tempDir(), 'mnt');
    const b = await startBridge({ fuseMount: mnt });
    expect(mounted(mnt)).toBe(true);
    expect(await b.stop('SIGTERM')).toBe(0);
    expect(mounted(mnt)).toBe(false);
  });

  it('unmounts cleanly on Ctrl-C, which a terminal sends to the daemon too (the whole process group)', async () => {
    const mnt = path.join(tempDir(), 'mnt');
    const b = await startBridge({ fuseMount: mnt });
    const daemons = daemonPids(b.proc.pid!);
    expect(daemons).toHaveLength(1);
    // What a terminal's Ctrl-C does: SIGINT to every process of the foreground job at once.
    process.kill(daemons[0]!, 'SIGINT');
    b.proc.kill('SIGINT');
    expect(await b.exited).toBe(0);
    expect(mounted(mnt)).toBe(false);
    // The daemon unmounted on its own; the bridge found nothing stale to clear.
    expect(b.stderr()).not.toContain('cleared a stale FUSE mount');
  });

  it('still stops on SIGTERM after its FUSE daemon was killed', async () => {
    const mnt = path.join(tempDir(), 'mnt');
    const b = await startBridge({ fuseMount: mnt });
    const daemons = daemonPids(b.proc.pid!);
    expect(daemons).toHaveLength(1);
    process.kill(daemons[0]!, 'SIGKILL');
    for (let i = 0; i < 100 && !b.stderr().includes('FUSE daemon exited'); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await b.admin().ready()).fuse.mounted).toBe(false);
    expect(await b.stop('SIGTERM')).toBe(0);
    expect(mounted(mnt)).toBe(false);
  });

  it('clears a stale mount left by a crash at the next start', async () => {
    const top = tempDir();
    const mnt = path.join(top, 'mnt');
    const b = await startBridge({ fuseMount: mnt, dataDir: path.join(top, 'data') });
    const daemons = daemonPids(b.proc.pid!);
    expect(daemons).toHaveLength(1);
    // The daemon first: told that the bridge is gone, a live daemon would unmount cleanly.
    process.kill(daemons[0]!, 'SIGKILL');
    b.proc.kill('SIGKILL');
    await b.exited;
    // Dying takes a moment: until the daemon's /dev/fuse descriptor is closed, a call would wait for it.
    const gone = (pid: number) => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    for (let i = 0; i < 100 && !gone(daemons[0]!); i++) await new Promise((r) => setTimeout(r, 50));
    expect(mounted(mnt)).toBe(true);
    expect(() => fs.readdirSync(mnt)).toThrow(/ENOTCONN/);
    const again = await startBridge({ fuseMount: mnt, dataDir: path.join(top, 'data'), secret: b.secret });
    expect(fs.readdirSync(mnt).sort()).toEqual(['context', 'current', 'history', 'shadows', 'streams']);
    expect(again.stderr()).toContain('cleared a stale FUSE mount');
    await again.stop();
  });

  it('keeps its own mount point and store out of the view when they lie in the workspace (native mode)', async () => {
    const top = tempDir();
    fs.writeFileSync(path.join(top, 'file.txt'), 'x\n');
    const mnt = path.join(top, '.lighthouse', 'mnt');
    const b = await startBridge({
      workspace: top,
      fuseMount: mnt,
      dataDir: path.join(top, '.lighthouse', 'data'),
    });
    const agent = b.agent('native');
    await agent.registerAgent({ capabilities: [] });
    await agent.writeFile('new.txt', 'new\n');
    // The whole of .lighthouse/ is the bridge's own (store, mount, secret, keys): in no view.
    expect(fs.readdirSync(path.join(mnt, 'current')).sort()).toEqual(['file.txt']);
    expect(fs.readdirSync(path.join(mnt, 'shadows', 'native')).sort()).toEqual(['file.txt', 'new.txt']);
    expect(() => fs.statSync(path.join(mnt, 'current', '.lighthouse', 'data'))).toThrow(/EACCES|ENOENT/);
    expect(() => fs.statSync(path.join(mnt, 'current', '.lighthouse', 'mnt'))).toThrow(/EACCES|ENOENT/);
    expect(fs.readFileSync(path.join(mnt, 'shadows', 'native', 'file.txt'), 'utf8')).toBe('x\n');
    expect(fs.readFileSync(path.join(mnt, 'shadows', 'native', 'new.txt'), 'utf8')).toBe('new\n');
    expect(await b.stop('SIGTERM')).toBe(0);
    expect(mounted(mnt)).toBe(false);
  });

  it('keeps running without FUSE when mounting fails, and says why in /ready', async () => {
    const top = tempDir();
    fs.writeFileSync(path.join(top, 'file'), 'x');
    const b = await startBridge({ fuseMount: path.join(top, 'file', 'mnt') });
    const ready = await b.admin().ready();
    expect(ready.ready).toBe(true);
    expect(ready.fuse.enabled).toBe(false);
    expect(ready.fuse.reason).toMatch(/cannot create/);
    await b.stop();
  });

  it('lets no traversal payload escape through the mount', async () => {
    const top = tempDir();
    const ws = path.join(top, 'ws');
    fs.mkdirSync(path.join(ws, 'src'), { recursive: true });
    fs.mkdirSync(path.join(top, 'outside'));
    const secret = `SECRET-${Math.random().toString(36).slice(2)}`;
    fs.writeFileSync(path.join(top, 'outside', 'secret.txt'), secret);
    fs.symlinkSync('../outside', path.join(ws, 'link'));
    const mnt = path.join(top, 'mnt');
    const b = await startBridge({ workspace: ws, fuseMount: mnt });
    await b.agent('prober').registerAgent({ capabilities: [] });
    const shadow = path.join(mnt, 'shadows', 'prober');
    const escapes: string[] = [];
    let tried = 0;
    for (const payload of traversalCorpus()) {
      if (payload.includes('\0')) continue; // no file system call can carry a NUL
      for (const base of [shadow, path.join(mnt, 'current')]) {
        const p = path.join(base, payload);
        // A path that the kernel resolves outside the mount is not served by the mount at all.
        if (!p.startsWith(mnt + path.sep)) continue;
        tried++;
        try {
          if (fs.readFileSync(p, 'utf8').includes(secret)) escapes.push(payload);
        } catch {
          // refused, or no such file: both fine
        }
        try {
          fs.writeFileSync(p, 'pwned');
        } catch {
          // refused
        }
      }
    }
    expect(tried).toBeGreaterThan(1000);
    expect(escapes).toEqual([]);
    expect(fs.readFileSync(path.join(top, 'outside', 'secret.txt'), 'utf8')).toBe(secret);
    expect(fs.readdirSync(path.join(top, 'outside'))).toEqual(['secret.txt']);
    // The link shows as itself; the kernel follows its text from the mount (mnt/outside: nothing).
    expect(fs.readlinkSync(path.join(mnt, 'current/link'))).toBe('../outside');
    expect(() => fs.readFileSync(path.join(mnt, 'current/link/secret.txt'))).toThrow(/ENOENT|EACCES/);
    await b.stop();
  });
});
