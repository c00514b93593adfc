import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Where `--native` mounts the view of the project in `workspace`: outside it, so that tools run in
 * the project (grep -r, watchers, test runners) never walk into the mount, and on a path without a
 * dot segment (some servers, send and express among them, refuse to serve files under one). One
 * per project (a hash of its real path), so two bridges on two projects do not meet.
 */
export function nativeMountPoint(workspace: string, env: NodeJS.ProcessEnv = process.env): string {
  let real = path.resolve(workspace);
  try {
    real = fs.realpathSync(real);
  } catch {
    // not there yet: the bridge creates it
  }
  const name =
    path
      .basename(real)
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'project';
  const id = createHash('sha256').update(real).digest('hex').slice(0, 8);
  const runtime = env.XDG_RUNTIME_DIR;
  const root =
    runtime && path.isAbsolute(runtime) && !runtime.split('/').some((s) => s.startsWith('.'))
      ? path.join(runtime, 'lighthouse')
      : path.join('/tmp', `lighthouse-${process.getuid?.() ?? 'user'}`);
  return path.join(root, `${name}-${id}`);
}

/**
 * Makes the default mount point's parent, private to this user. In a shared /tmp another user
 * could have made it first (to watch or replace what is mounted there): that is refused, never used.
 */
export function privateMountParent(mountPoint: string): void {
  const dir = path.dirname(mountPoint);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new Error(
      `refusing to mount under ${dir}: it is ${st.isSymbolicLink() ? 'a symlink' : !st.isDirectory() ? 'not a directory' : st.uid !== uid ? `owned by uid ${st.uid}` : `open to others (mode ${(st.mode & 0o777).toString(8)})`}; remove it or pass --fuse-mount`,
    );
  }
}
