import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkOpened,
  openResolved,
  PathRejected,
  resolveInWorkspace,
} from '../../../bridge-image/src/shadow/path-safety.js';
import { tempDir } from '../../helpers/bridge-process.js';

/**
 * A workspace path is checked (realpath) and then opened: a symlink swapped in between would lead the
 * open outside the workspace, or into the bridge's own state. These swap it in at exactly that point.
 */
function layout() {
  const top = fs.realpathSync(tempDir());
  const root = path.join(top, 'ws');
  const outside = path.join(top, 'outside');
  fs.mkdirSync(path.join(root, 'd'), { recursive: true });
  fs.mkdirSync(path.join(root, '.lighthouse'));
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(root, 'd', 'f'), 'workspace file\n');
  fs.writeFileSync(path.join(outside, 'f'), 'outside secret\n');
  fs.writeFileSync(path.join(root, '.lighthouse', 'secret'), 'master secret\n');
  return { root, outside, hidden: [path.join(root, '.lighthouse')] };
}

const refusedWith = (fn: () => unknown, why: RegExp) => {
  let err: unknown;
  try {
    const fd = fn();
    if (typeof fd === 'number') fs.closeSync(fd);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(PathRejected);
  expect(err).toMatchObject({ status: 403, why: expect.stringMatching(why) });
};

describe('opening a checked workspace path', () => {
  it('opens the file that was checked, and reads it through the descriptor', () => {
    const { root, hidden } = layout();
    const real = resolveInWorkspace(root, 'd/f', hidden)!;
    const fd = openResolved(root, real, 'd/f', hidden)!;
    try {
      expect(fs.readFileSync(fd, 'utf8')).toBe('workspace file\n');
    } finally {
      fs.closeSync(fd);
    }
  });

  it('refuses a last component that became a symlink after the check (ELOOP, not followed)', () => {
    const { root, outside, hidden } = layout();
    const real = resolveInWorkspace(root, 'd/f', hidden)!;
    fs.rmSync(real);
    fs.symlinkSync(path.join(outside, 'f'), real);
    refusedWith(() => openResolved(root, real, 'd/f', hidden), /symlink while it was being opened/);
  });

  it('refuses a directory on the way that became a symlink to outside the workspace', () => {
    const { root, outside, hidden } = layout();
    const real = resolveInWorkspace(root, 'd/f', hidden)!;
    fs.rmSync(path.join(root, 'd'), { recursive: true });
    fs.symlinkSync(outside, path.join(root, 'd'));
    refusedWith(() => openResolved(root, real, 'd/f', hidden), /outside the workspace when it was opened/);
  });

  it("refuses a directory on the way that became a symlink into the bridge's own state", () => {
    const { root, hidden } = layout();
    fs.writeFileSync(path.join(root, 'd', 'secret'), 'decoy\n');
    const real = resolveInWorkspace(root, 'd/secret', hidden)!;
    fs.rmSync(path.join(root, 'd'), { recursive: true });
    fs.symlinkSync('.lighthouse', path.join(root, 'd'));
    refusedWith(() => openResolved(root, real, 'd/secret', hidden), /bridge's own state/);
  });

  it('refuses any descriptor whose real path lies outside the workspace or in a hidden part', () => {
    const { root, outside, hidden } = layout();
    for (const [file, why] of [
      [path.join(outside, 'f'), /outside the workspace/],
      [path.join(root, '.lighthouse', 'secret'), /bridge's own state/],
    ] as const) {
      const fd = fs.openSync(file, 'r');
      try {
        refusedWith(() => checkOpened(root, fd, 'x', hidden), why);
      } finally {
        fs.closeSync(fd);
      }
    }
  });

  it('refuses a symlink into a hidden part at the check itself', () => {
    const { root, hidden } = layout();
    fs.symlinkSync('.lighthouse/secret', path.join(root, 'leak'));
    refusedWith(() => resolveInWorkspace(root, 'leak', hidden), /bridge's own state/);
  });

  it('does not wait for a writer on a FIFO in the workspace', () => {
    const { root, hidden } = layout();
    const fifo = path.join(root, 'd', 'pipe');
    execFileSync('mkfifo', [fifo]);
    const fd = openResolved(root, resolveInWorkspace(root, 'd/pipe', hidden)!, 'd/pipe', hidden)!;
    try {
      expect(fs.fstatSync(fd).isFIFO()).toBe(true);
    } finally {
      fs.closeSync(fd);
    }
  });
});
