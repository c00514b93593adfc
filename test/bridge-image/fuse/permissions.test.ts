import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeClient } from '../../../bridge-image/protocol/index.js';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

/**
 * The view is mounted allow_other (a root `docker exec`, the developer's own shell may read it). The
 * kernel must then check every access against the owner and modes the daemon reports
 * (default_permissions): another local user reads what the workspace lets everyone read, and nothing
 * more, and never writes into an agent's shadow.
 */
const fuseAvailable = fs.existsSync('/dev/fuse') && process.getuid?.() === 0;
const NOBODY = 65534;

/** Runs a shell command as uid/gid 65534 with no supplementary groups; resolves with its outcome. */
async function asNobody(cmd: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(
      'setpriv',
      [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'bash', '-c', cmd],
      { encoding: 'utf8' },
    );
    return { ok: true, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { stdout: string; stderr: string };
    return { ok: false, stdout: err.stdout, stderr: err.stderr };
  }
}

describe.skipIf(!fuseAvailable)('the FUSE view and other local users', () => {
  let b: BridgeProcess;
  let mnt: string;
  let ws: string;
  let alice: BridgeClient;

  beforeAll(async () => {
    const top = tempDir();
    // Reachable by other users, as a developer's project directory is.
    fs.chmodSync(top, 0o755);
    ws = path.join(top, 'ws');
    mnt = path.join(ws, '.lighthouse', 'mnt');
    fs.mkdirSync(path.join(ws, '.lighthouse', 'keys'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(ws, '.lighthouse', 'keys', 'alice.key'), 'a'.repeat(64), { mode: 0o644 });
    fs.writeFileSync(path.join(ws, 'public.txt'), 'for everyone\n', { mode: 0o644 });
    fs.writeFileSync(path.join(ws, 'private.txt'), 'for root only\n', { mode: 0o600 });
    fs.writeFileSync(path.join(ws, 'shared.txt'), 'group-writable\n');
    fs.chmodSync(path.join(ws, 'shared.txt'), 0o666);
    b = await startBridge({ workspace: ws, fuseMount: mnt });
    alice = b.agent('alice');
    await alice.registerAgent({ capabilities: [] });
    await alice.writeFile('mine.txt', "alice's work\n");
  });
  afterAll(async () => {
    await b?.stop();
  });

  it("reads the workspace's world-readable files through current/ and shadows/", async () => {
    expect(await asNobody(`cat ${mnt}/current/public.txt`)).toMatchObject({
      ok: true,
      stdout: 'for everyone\n',
    });
    expect(await asNobody(`cat ${mnt}/shadows/alice/public.txt`)).toMatchObject({ ok: true });
    expect(await asNobody(`ls ${mnt}/current`)).toMatchObject({ ok: true });
  });

  it('cannot read a file the workspace keeps from it, nor a key of the bridge', async () => {
    for (const p of ['current/private.txt', 'shadows/alice/private.txt']) {
      const r = await asNobody(`cat ${mnt}/${p}`);
      expect(r.ok, p).toBe(false);
      expect(r.stderr, p).toMatch(/Permission denied/);
    }
    for (const p of ['current/.lighthouse/keys/alice.key', 'shadows/alice/.lighthouse/keys/alice.key']) {
      const r = await asNobody(`cat ${mnt}/${p}`);
      expect(r.ok, p).toBe(false);
      expect(r.stdout, p).toBe('');
    }
  });

  it("cannot write into an agent's shadow: no new file, no change, no removal", async () => {
    const sa = `${mnt}/shadows/alice`;
    for (const cmd of [
      `echo evil > ${sa}/planted.txt`,
      `echo evil > ${sa}/mine.txt`,
      `echo evil >> ${sa}/shared.txt`,
      `rm -f ${sa}/mine.txt`,
      `mkdir ${sa}/dir`,
      `mv ${sa}/mine.txt ${sa}/moved.txt`,
    ]) {
      const r = await asNobody(cmd);
      expect(r.ok, cmd).toBe(false);
      expect(r.stderr, cmd).toMatch(/Permission denied/);
    }
    expect((await alice.changes()).changes.map((c) => c.path)).toEqual(['mine.txt']);
    expect((await alice.readFile('mine.txt')).toString()).toBe("alice's work\n");
    expect((await alice.readFile('shared.txt')).toString()).toBe('group-writable\n');
  });

  it('reports the daemon as owner, shadows writable by it alone, read-only views with no write bits', async () => {
    const shadow = fs.statSync(path.join(mnt, 'shadows', 'alice', 'shared.txt'));
    expect(shadow.uid).toBe(process.getuid!());
    expect(shadow.gid).toBe(process.getgid!());
    expect(shadow.mode & 0o777).toBe(0o644);
    expect(fs.statSync(path.join(mnt, 'shadows', 'alice', 'mine.txt')).mode & 0o022).toBe(0);
    expect(fs.statSync(path.join(mnt, 'shadows', 'alice')).mode & 0o022).toBe(0);
    expect(fs.statSync(path.join(mnt, 'current', 'shared.txt')).mode & 0o222).toBe(0);
    expect(fs.statSync(path.join(mnt, 'history', '1')).mode & 0o222).toBe(0);
    // The daemon's own user (root here) still writes; the kernel lets it through to the daemon.
    fs.writeFileSync(path.join(mnt, 'shadows', 'alice', 'shared.txt'), 'by the owner\n');
    expect((await alice.readFile('shared.txt')).toString()).toBe('by the owner\n');
  });
});
