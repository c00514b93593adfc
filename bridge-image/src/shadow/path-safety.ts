import fs from 'node:fs';
import path from 'node:path';

export class PathRejected extends Error {
  override name = 'PathRejected';
  constructor(
    readonly input: string,
    readonly why: string,
    /** 400: malformed; 403: well-formed but outside the workspace. */
    readonly status: 400 | 403,
  ) {
    super(`path refused: ${why}`);
  }
}

// Encoded NULs, dots, slashes and backslashes, single or double encoded, and overlong UTF-8 forms of them.
// A literal file name never needs these, and a path that carries them is probing for a decoder.
const ENCODED_TRAVERSAL =
  /%(25)*(00|2e|2f|5c|c0%(25)*(ae|af|2e|2f|5c|9v|qf)|c1%(25)*(1c|9c|pc)|e0%(25)*80%(25)*(ae|af)|f0%(25)*80%(25)*80%(25)*(ae|af)|u002e|u002f|u2215|uff0e|uff0f)/i;
// Characters that some decoders turn into "." or "/".
const LOOKALIKES = /[\u2024\u2025\u2026\u2215\u2044\uff0e\uff0f\ufe52\u3002]/;

/**
 * Turns an agent-supplied path into a normalised workspace-relative path ("src/a.ts"), or refuses it.
 * Refused: empty, NUL, backslashes, absolute paths, any ".." segment, encoded or look-alike traversal.
 * "." segments and repeated slashes are dropped; the empty result (the root itself) is "".
 */
export function normalise(input: string, allowRoot = false): string {
  if (input.includes('\0')) throw new PathRejected(input, 'contains a NUL byte', 400);
  if (input.includes('\\')) throw new PathRejected(input, 'contains a backslash; use "/"', 400);
  if (input.startsWith('/') || /^[A-Za-z]:/.test(input) || input.startsWith('~')) {
    throw new PathRejected(
      input,
      'absolute paths are not allowed; give a path relative to the workspace',
      403,
    );
  }
  if (ENCODED_TRAVERSAL.test(input)) throw new PathRejected(input, 'contains percent-encoded traversal', 400);
  if (LOOKALIKES.test(input))
    throw new PathRejected(input, 'contains look-alike dot or slash characters', 400);
  const parts: string[] = [];
  for (const seg of input.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' || /^\.{2,}$/.test(seg)) throw new PathRejected(input, '".." is not allowed', 403);
    if (seg.length > 255) throw new PathRejected(input, 'a path segment is longer than 255 bytes', 400);
    parts.push(seg);
  }
  if (parts.length === 0 && !allowRoot)
    throw new PathRejected(input, 'names the workspace root, not a file', 400);
  return parts.join('/');
}

/**
 * The absolute path of a workspace file, after checking that no symlink on the way leads outside
 * the workspace or into one of its `hidden` parts (the bridge's own state: see hidden-paths.ts).
 * Returns undefined when the path does not exist in the workspace.
 */
export function resolveInWorkspace(
  root: string,
  rel: string,
  hidden: readonly string[] = [],
): string | undefined {
  const abs = rel === '' ? root : path.join(root, rel);
  let real: string;
  try {
    // The native realpath(3): one system call, where the JavaScript version lstat()s every component
    // (listing 10,000 changes resolves 10,000 paths).
    real = fs.realpathSync.native(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // A dangling symlink still must not point outside.
      try {
        const target = fs.readlinkSync(abs);
        const resolved = path.resolve(path.dirname(abs), target);
        if (!within(root, resolved))
          throw new PathRejected(rel, 'a workspace symlink leads outside the workspace', 403);
        if (inHidden(hidden, resolved)) throw intoHidden(rel);
      } catch (inner) {
        if (inner instanceof PathRejected) throw inner;
      }
      return undefined;
    }
    throw e;
  }
  if (!within(root, real))
    throw new PathRejected(rel, 'a workspace symlink leads outside the workspace', 403);
  if (inHidden(hidden, real)) throw intoHidden(rel);
  return real;
}

const intoHidden = (rel: string) =>
  new PathRejected(rel, "a workspace symlink leads into the bridge's own state", 403);

/**
 * Whether an absolute path lies in (or is) one of the hidden paths. Compared without regard to case:
 * on a case-insensitive file system (macOS, Windows) ".LIGHTHOUSE/secret" is the secret itself, and
 * nothing real is lost by hiding that name on Linux too.
 */
export function inHidden(hidden: readonly string[], abs: string): boolean {
  if (hidden.length === 0) return false;
  const p = abs.toLowerCase();
  return hidden.some((h) => within(h.toLowerCase(), p));
}

// Linux names what a descriptor refers to under /proc/self/fd; elsewhere the check after opening is
// left out (and only O_NOFOLLOW on the last component remains).
const PROC_FD = fs.existsSync('/proc/self/fd') ? '/proc/self/fd' : undefined;
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/**
 * Opens a path that resolveInWorkspace() returned, read-only, without following a symlink swapped in
 * at its last component since (ELOOP), then checks what the descriptor really is: a directory on
 * the way swapped for a symlink would otherwise lead the open outside the workspace or into its
 * hidden parts. O_NONBLOCK: a FIFO opens at once instead of waiting for a writer (it is no file, and
 * the caller's fstat refuses it). Returns undefined when the path is gone or cannot be opened as
 * a file or directory; everything read must then go through the returned descriptor.
 */
export function openResolved(
  root: string,
  real: string,
  rel: string,
  hidden: readonly string[] = [],
): number | undefined {
  let fd: number;
  try {
    fd = fs.openSync(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new PathRejected(rel, 'became a symlink while it was being opened', 403);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENXIO') return undefined;
    throw e;
  }
  try {
    checkOpened(root, fd, rel, hidden);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}

/** Refuses a descriptor whose real path lies outside the workspace or in a hidden part of it. */
export function checkOpened(root: string, fd: number, rel: string, hidden: readonly string[] = []): void {
  if (!PROC_FD) return;
  const at = fs.readlinkSync(`${PROC_FD}/${fd}`);
  if (!within(root, at)) throw new PathRejected(rel, 'led outside the workspace when it was opened', 403);
  if (inHidden(hidden, at))
    throw new PathRejected(rel, "led into the bridge's own state when it was opened", 403);
}

export function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}
