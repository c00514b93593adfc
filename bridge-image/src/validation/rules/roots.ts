/** Directories whose recursive deletion or permission change wrecks a machine, a user or a project. */
import path from 'node:path';
import { isInside } from '../glob.js';
import { SYSTEM_DIRS } from '../sensitive-paths.js';

/** `/x/*`, `/x/.*`, `/x/.` all mean "everything in /x". */
const ALL_ENTRIES = /\/(?:\*|\.\*|\*\.\*|\.\[!.\]\*|\.\?\*|\{\*,\.\*\}|\.)$/;

export function contentsOf(abs: string): string {
  let p = abs;
  while (ALL_ENTRIES.test(p)) p = path.posix.dirname(p);
  return p;
}

/**
 * What a path is, if it is a root that must not be wiped: the filesystem root, the home
 * directory, the workspace root (unless `workspaceAllowed`), a directory containing one of
 * those, or a system directory. Trailing "all entries" globs count as the directory.
 */
export function protectedRoot(
  abs: string,
  workspace: string,
  home: string,
  workspaceAllowed = false,
): string | null {
  const p = contentsOf(abs);
  if (p === '/') return 'the filesystem root';
  if (p === home) return 'your home directory';
  if (p === workspace) return workspaceAllowed ? null : 'the workspace root';
  if (isInside(p, workspace)) return 'a directory containing the workspace';
  if (isInside(p, home)) return 'a directory containing your home directory';
  if (SYSTEM_DIRS.has(p)) return `the system directory ${p}`;
  return null;
}

/** Relative targets that mean "everything here": dangerous wherever "here" turns out to be. */
export const isWholeDirectory = (raw: string): boolean => /^(?:\.|\.\/|\*|\.\/\*|\.\*|\.\/\.\*)$/.test(raw);
