/**
 * Preparing the host folder the container's FUSE view propagates to: reading the mount table, and
 * what is done or said on a private mount, as root or not, and off Linux. The real propagation
 * through Docker is in container.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isShared,
  mountOf,
  parseMountInfo,
  prepareHostView,
  type HostViewDeps,
} from '../../../extension/engine/host-view.js';
import { tempDir } from '../../helpers/temp-dirs.js';

const line = (id: number, mp: string, tags: string, fs_ = 'ext4') =>
  `${id} 1 254:0 / ${mp} rw,relatime ${tags} - ${fs_} /dev/vda rw`.replace(/ {2}/g, ' ');

describe('the mount table', () => {
  const table = [
    line(1, '/', ''),
    line(2, '/tmp/with\\040space', 'shared:4'),
    line(3, '/tmp/a', 'master:1'),
    line(4, '/tmp/a', 'shared:7'),
  ].join('\n');

  it('is read with escaped paths and tags; a path lies on the last, longest mount containing it', () => {
    const mounts = parseMountInfo(table);
    expect(mounts[1]).toEqual({ mountPoint: '/tmp/with space', tags: ['shared:4'], fsType: 'ext4' });
    expect(mountOf(mounts, '/tmp/a/b')?.tags).toEqual(['shared:7']);
    expect(mountOf(mounts, '/tmp/ab')?.mountPoint).toBe('/');
    expect(isShared(mountOf(mounts, '/tmp/ab'))).toBe(false);
    expect(isShared(mountOf(mounts, '/tmp/with space/x'))).toBe(true);
  });
});

describe('prepareHostView', () => {
  /** A machine whose mount table we write, recording the commands run. */
  function machine(over: Partial<HostViewDeps> & { table: string[] }) {
    const ran: string[] = [];
    const deps: HostViewDeps = {
      platform: 'linux',
      uid: 1000,
      readMountInfo: () => over.table.join('\n'),
      run: async (cmd, args) => {
        ran.push([cmd, ...args].join(' '));
      },
      ...over,
    };
    return { deps, ran };
  }

  it('uses a folder on a shared mount as it is (systemd makes / shared)', async () => {
    const hostDir = path.join(tempDir(), 'view');
    const { deps, ran } = machine({ table: [line(1, '/', 'shared:1')] });
    expect(await prepareHostView(hostDir, deps)).toEqual({
      ok: true,
      hostDir,
      mountPoint: path.join(hostDir, 'project'),
    });
    expect(ran).toEqual([]);
    // The bridge's uid owns it here: private to it.
    expect(fs.statSync(hostDir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(hostDir, 'project')).isDirectory()).toBe(true);
  });

  it('on a private mount, not root: says what is wrong and the commands that fix it, runs nothing', async () => {
    const hostDir = path.join(tempDir(), 'view');
    const { deps, ran } = machine({ uid: 1234, table: [line(1, '/', '')] });
    const r = await prepareHostView(hostDir, deps);
    expect(r).toEqual({
      ok: false,
      reason: expect.stringMatching(
        new RegExp(
          `^/ is not a shared mount.*mount --bind ${hostDir} ${hostDir} && mount --make-shared ${hostDir}$`,
        ),
      ),
    });
    expect(ran).toEqual([]);
    // Another owner than the bridge's uid: it may pass through, not list.
    expect(fs.statSync(hostDir).mode & 0o777).toBe(0o711);
    // The bridge (uid 1000) must be able to mount on what this user made.
    expect(fs.statSync(path.join(hostDir, 'project')).mode & 0o777).toBe(0o777);
  });

  it('on a private mount, as root: binds the folder onto itself and makes it shared', async () => {
    const hostDir = path.join(tempDir(), 'view');
    const table = [line(1, '/', '')];
    const { deps, ran } = machine({
      uid: 0,
      table,
      run: async (cmd, args) => {
        ran.push([cmd, ...args].join(' '));
        if (args[0] === '--make-shared') table.push(line(9, hostDir, 'shared:9'));
      },
    });
    expect(await prepareHostView(hostDir, deps)).toMatchObject({ ok: true });
    expect(ran).toEqual([`mount --bind ${hostDir} ${hostDir}`, `mount --make-shared ${hostDir}`]);
    expect(fs.statSync(path.join(hostDir, 'project')).uid).toBe(1000);
  });

  it('leaves the live view of a running container (taken over) as it is', async () => {
    const hostDir = path.join(tempDir(), 'view');
    fs.mkdirSync(path.join(hostDir, 'project', 'shadows'), { recursive: true });
    const table = [
      line(1, '/', 'shared:1'),
      line(5, path.join(hostDir, 'project'), 'shared:3', 'fuse.lighthouse'),
    ];
    const { deps, ran } = machine({ table });
    expect(await prepareHostView(hostDir, deps)).toMatchObject({ ok: true });
    expect(ran).toEqual([]);
  });

  it('unmounts a view a dead container left behind, and refuses off Linux', async () => {
    const hostDir = path.join(tempDir(), 'view');
    const table = [
      line(1, '/', 'shared:1'),
      line(5, path.join(hostDir, 'project'), 'shared:3', 'fuse.lighthouse'),
    ];
    const { deps, ran } = machine({ table });
    expect(await prepareHostView(hostDir, deps)).toMatchObject({ ok: true });
    expect(ran).toEqual([`umount -l ${path.join(hostDir, 'project')}`]);
    const mac = machine({ platform: 'darwin', table: [] });
    expect(await prepareHostView(hostDir, mac.deps)).toEqual({
      ok: false,
      reason: expect.stringMatching(/virtual machine/),
    });
  });
});
