import fs from 'node:fs';
import path from 'node:path';
import type { ApplyStep } from './apply-plan.js';

/**
 * The parts of applying that VS Code's WorkspaceEdit cannot do, done with node's fs on the
 * workspace folder (they are not in the editor's Undo): making symlinks, and setting the mode a
 * file has in the shadow (chmod +x). Paths come from the bridge's change list, which only names
 * paths inside the workspace; each is checked again here all the same.
 */
function inside(root: string, rel: string): string {
  const abs = path.resolve(root, rel);
  if (abs === root || !abs.startsWith(root + path.sep)) throw new Error(`${rel} is not inside the workspace`);
  return abs;
}

function lstat(abs: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(abs);
  } catch {
    return undefined;
  }
}

/**
 * Before the edit: a symlink where a file is to be written is removed, so the edit writes a file
 * there instead of writing through the link into whatever it leads to.
 */
export function unlinkReplacedLinks(root: string, steps: readonly ApplyStep[]): void {
  for (const s of steps) {
    if (s.kind !== 'write' && s.kind !== 'move') continue;
    const abs = inside(root, s.kind === 'move' ? s.to : s.path);
    if (lstat(abs)?.isSymbolicLink()) fs.unlinkSync(abs);
  }
}

/** After the edit: the symlinks made (a moved one's old place removed) and the modes set. */
export function finishOnDisk(root: string, steps: readonly ApplyStep[]): void {
  for (const s of steps) {
    if (s.kind === 'link') {
      const abs = inside(root, s.path);
      const there = lstat(abs);
      if (there?.isDirectory()) throw new Error(`${s.path} is a directory in the workspace; no link made`);
      if (there) fs.unlinkSync(abs);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.symlinkSync(s.target, abs);
      if (s.from && lstat(inside(root, s.from))?.isSymbolicLink()) fs.unlinkSync(inside(root, s.from));
    } else if ((s.kind === 'write' || s.kind === 'move') && s.mode !== undefined) {
      const abs = inside(root, s.kind === 'move' ? s.to : s.path);
      const st = lstat(abs);
      if (st?.isFile() && (st.mode & 0o777) !== s.mode) fs.chmodSync(abs, s.mode);
    }
  }
}
