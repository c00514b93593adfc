import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nativeMountPoint, privateMountParent } from '../../bridge-image/src/mount-point.js';

/**
 * The bridge container's FUSE view, seen on the host: a host folder bound at the view's parent in
 * the container with `rshared` propagation, so that the mount the bridge makes inside
 * (/mnt/lighthouse/project) appears on the host at <folder>/project, where `lighthouse agent` and
 * the hook find the agents' shadows.
 */

/** Where the container mounts the view: its parent is bound to the host folder. */
export const CONTAINER_VIEW_PARENT = '/mnt/lighthouse';
export const VIEW_NAME = 'project';
/** The bridge in the container runs as this user: it must reach the host folder. */
const BRIDGE_UID = 1000;

export type HostView = { ok: true; hostDir: string; mountPoint: string } | { ok: false; reason: string };

/** One line of /proc/self/mountinfo, the parts we read. */
export interface MountInfo {
  mountPoint: string;
  /** Optional fields, e.g. shared:2, master:1. */
  tags: string[];
  fsType: string;
}

/** Parses /proc/self/mountinfo (octal escapes in paths decoded). */
export function parseMountInfo(text: string): MountInfo[] {
  const unescape = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const [left, right = ''] = line.split(' - ');
      const f = left!.split(' ');
      return { mountPoint: unescape(f[4] ?? ''), tags: f.slice(6), fsType: right.split(' ')[0] ?? '' };
    });
}

/** The mount a path lies on: the last-mounted one with the longest mount point that contains it. */
export function mountOf(mounts: MountInfo[], p: string): MountInfo | undefined {
  let best: MountInfo | undefined;
  for (const m of mounts) {
    const inside = m.mountPoint === '/' || p === m.mountPoint || p.startsWith(`${m.mountPoint}/`);
    if (inside && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

export const isShared = (m: MountInfo | undefined): boolean => !!m?.tags.some((t) => t.startsWith('shared:'));

export interface HostViewDeps {
  platform: NodeJS.Platform;
  uid: number | undefined;
  readMountInfo: () => string;
  /** Runs a command (mount, umount) as this process's user; rejects with its stderr. */
  run: (cmd: string, args: string[]) => Promise<void>;
}

export const defaultHostViewDeps = (): HostViewDeps => ({
  platform: process.platform,
  uid: process.getuid?.(),
  readMountInfo: () => fs.readFileSync('/proc/self/mountinfo', 'utf8'),
  run: (cmd, args) =>
    new Promise((resolve, reject) =>
      execFile(cmd, args, { timeout: 10_000 }, (err, _out, stderr) =>
        err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(),
      ),
    ),
});

/**
 * Makes `hostDir` ready to be bound with rshared propagation: a folder the container's bridge user
 * can reach, whose mount is shared (Docker refuses rshared on a private one). systemd makes / shared,
 * so on most Linux machines there is nothing to do; elsewhere root binds the folder onto itself and
 * marks it shared, and anyone else is told the command. A view left over by a container that died
 * is unmounted first. Never throws: what cannot be done is the reason the view stays in the container.
 */
export async function prepareHostView(
  hostDir: string,
  deps: HostViewDeps = defaultHostViewDeps(),
): Promise<HostView> {
  if (deps.platform !== 'linux') {
    return {
      ok: false,
      reason: `the engine on ${deps.platform} runs the container in a virtual machine, whose mounts do not reach this machine`,
    };
  }
  const mountPoint = path.join(hostDir, VIEW_NAME);
  try {
    fs.mkdirSync(hostDir, { recursive: true, mode: 0o700 });
    // The bridge runs as uid 1000 in the container: another owner lets it through, no more.
    if (deps.uid !== BRIDGE_UID) fs.chmodSync(hostDir, 0o711);
    let mounts = parseMountInfo(deps.readMountInfo());
    let live = false;
    if (mounts.some((m) => m.mountPoint === mountPoint)) {
      // A running container's view (taken over now) stays; one whose daemon died is cleared.
      live = hostViewVisible(mountPoint, deps.readMountInfo);
      if (!live) {
        await deps
          .run('umount', ['-l', mountPoint])
          .catch(() => deps.run('fusermount', ['-u', '-z', mountPoint]));
        mounts = parseMountInfo(deps.readMountInfo());
      }
    }
    if (!live) {
      fs.mkdirSync(mountPoint, { recursive: true });
      // fusermount wants the mounting user (the bridge's) to own or be able to write the mount point.
      // Open to all is safe: the mount covers it, and nobody else can list its 0711 parent.
      if (deps.uid === 0) fs.chownSync(mountPoint, BRIDGE_UID, BRIDGE_UID);
      else if (deps.uid !== BRIDGE_UID) fs.chmodSync(mountPoint, 0o777);
    }
    if (!isShared(mountOf(mounts, hostDir))) {
      if (deps.uid !== 0) {
        return {
          ok: false,
          reason:
            `${mountOf(mounts, hostDir)?.mountPoint ?? '/'} is not a shared mount, and Docker binds rshared only from ` +
            `one; as root run: mount --bind ${hostDir} ${hostDir} && mount --make-shared ${hostDir}`,
        };
      }
      if (mountOf(mounts, hostDir)?.mountPoint !== hostDir)
        await deps.run('mount', ['--bind', hostDir, hostDir]);
      await deps.run('mount', ['--make-shared', hostDir]);
      if (!isShared(mountOf(parseMountInfo(deps.readMountInfo()), hostDir))) {
        return { ok: false, reason: `${hostDir} is still not a shared mount after mount --make-shared` };
      }
    }
    return { ok: true, hostDir, mountPoint };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

/** Is the bridge's view mounted at `mountPoint` on this machine (it shows its shadows/ folder)? */
export function hostViewVisible(
  mountPoint: string,
  readMountInfo = defaultHostViewDeps().readMountInfo,
): boolean {
  try {
    const m = parseMountInfo(readMountInfo()).find((x) => x.mountPoint === mountPoint);
    return !!m && m.fsType.startsWith('fuse') && fs.statSync(path.join(mountPoint, 'shadows')).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The host folder for a workspace's container view: beside where `npm start` mounts its own view
 * (XDG_RUNTIME_DIR/lighthouse or /tmp/lighthouse-<uid>), in that private folder.
 */
export function hostViewDirFor(
  workspacePath: string,
  workspaceId: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const dir = path.join(
    path.dirname(nativeMountPoint(workspacePath, env)),
    `container-${workspaceId.slice(0, 12)}`,
  );
  privateMountParent(dir);
  return dir;
}
