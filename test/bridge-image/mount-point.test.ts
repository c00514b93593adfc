import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeMountPoint, privateMountParent } from '../../bridge-image/src/mount-point.js';
import { tempDir } from '../helpers/temp-dirs.js';

describe('the native mount point', () => {
  it('lies outside the project, has no dot segment, and differs per project', () => {
    const root = tempDir();
    const a = path.join(root, 'my.project');
    const b = path.join(root, 'other', 'my.project');
    fs.mkdirSync(a, { recursive: true });
    fs.mkdirSync(b, { recursive: true });
    const pa = nativeMountPoint(a, {});
    expect(pa.startsWith(a)).toBe(false);
    expect(pa.split('/').filter((s) => s.startsWith('.'))).toEqual([]);
    expect(path.basename(pa)).toMatch(/^my-project-[0-9a-f]{8}$/);
    expect(nativeMountPoint(b, {})).not.toBe(pa);
    expect(nativeMountPoint(a, { XDG_RUNTIME_DIR: '/run/user/1000' })).toMatch(
      /^\/run\/user\/1000\/lighthouse\/my-project-[0-9a-f]{8}$/,
    );
    // A runtime dir with a dot segment is not used.
    expect(nativeMountPoint(a, { XDG_RUNTIME_DIR: '/home/u/.run' }).startsWith('/tmp/lighthouse-')).toBe(
      true,
    );
  });

  it('is made private, and a parent another user could reach is refused', () => {
    const root = tempDir();
    const mp = path.join(root, 'parent', 'proj-12345678');
    privateMountParent(mp);
    expect(fs.statSync(path.dirname(mp)).mode & 0o777).toBe(0o700);
    const open = path.join(root, 'open');
    fs.mkdirSync(open, { mode: 0o777 });
    fs.chmodSync(open, 0o777);
    expect(() => privateMountParent(path.join(open, 'x'))).toThrow(/open to others \(mode 777\)/);
    const link = path.join(root, 'link');
    fs.symlinkSync(path.dirname(mp), link);
    expect(() => privateMountParent(path.join(link, 'x'))).toThrow(/a symlink/);
    if (process.getuid?.() === 0) {
      const theirs = path.join(root, 'theirs');
      fs.mkdirSync(theirs, { mode: 0o700 });
      fs.chownSync(theirs, 65534, 65534);
      expect(() => privateMountParent(path.join(theirs, 'x'))).toThrow(/owned by uid 65534/);
    }
  });
});
