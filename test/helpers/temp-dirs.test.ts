import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mountsUnder, removeTempDirs, removeTree, tempDir } from './temp-dirs.js';

const root = process.getuid?.() === 0;

describe('temporary directories', () => {
  it('removes every directory tempDir made, with what is in it', () => {
    const a = tempDir('lh-tmpdirs-');
    const b = tempDir('lh-tmpdirs-');
    fs.mkdirSync(path.join(a, 'x', 'y'), { recursive: true });
    fs.writeFileSync(path.join(b, 'f'), 'data');
    removeTempDirs();
    expect(fs.existsSync(a)).toBe(false);
    expect(fs.existsSync(b)).toBe(false);
  });

  it.skipIf(!root)('detaches a mount inside before removing, leaving what the mount showed intact', () => {
    const shown = tempDir('lh-tmpdirs-src-');
    fs.writeFileSync(path.join(shown, 'precious'), 'keep me');
    const dir = tempDir('lh-tmpdirs-');
    const inner = path.join(dir, 'a b', 'mnt');
    fs.mkdirSync(inner, { recursive: true });
    execFileSync('mount', ['--bind', shown, inner]);
    expect(mountsUnder(dir)).toEqual([inner]);
    removeTree(dir);
    expect(fs.existsSync(dir)).toBe(false);
    expect(mountsUnder(dir)).toEqual([]);
    expect(fs.readFileSync(path.join(shown, 'precious'), 'utf8')).toBe('keep me');
  });
});
