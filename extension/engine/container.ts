import http from 'node:http';
import type Docker from 'dockerode';
import { CONTAINER_VIEW_PARENT } from './host-view.js';
import { LABELS } from './labels.js';
import { choosePort } from './ports.js';
import { tarArchive } from './tar.js';

export const CONTAINER_PORT = 8765;
const SECRET_DIR = 'etc/lighthouse';
const SECRET_PATH = `/${SECRET_DIR}/secret`;
const BRIDGE_UID = 1000;

export interface BridgeContainerSpec {
  docker: Docker;
  image: string;
  /** Absolute path of the project on the engine's host. */
  workspacePath: string;
  /** Stable id of the workspace (a hash of its path): names the container and its volume. */
  workspaceId: string;
  /** The master secret as 64 hex characters. */
  secretHex: string;
  fuse: boolean;
  /**
   * With FUSE: a host folder prepared by prepareHostView, bound at the view's parent with rshared
   * propagation so that the view shows on the host at <folder>/project.
   */
  hostViewDir?: string;
  preferredPort: number;
  logLevel?: string;
}

export interface RunningBridge {
  containerId: string;
  containerName: string;
  port: number;
  image: string;
  /** True when an already running container of this workspace was taken over. */
  reused: boolean;
  /** The host folder its FUSE view's parent is bound to, if it is. */
  hostViewDir?: string;
}

/** The host folder a container's view is bound to (its label), if any. */
export function hostViewDirOf(info: Docker.ContainerInfo): string | undefined {
  return info.Labels[LABELS.hostView] || undefined;
}

export function containerName(workspaceId: string): string {
  return `lighthouse-bridge-${workspaceId.slice(0, 12)}`;
}

export function volumeName(workspaceId: string): string {
  return `lighthouse-data-${workspaceId.slice(0, 12)}`;
}

/** This workspace's container, running or not. */
export async function findContainer(
  docker: Docker,
  workspaceId: string,
): Promise<Docker.ContainerInfo | undefined> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${LABELS.workspace}=${workspaceId}`] },
  });
  return list[0];
}

/** The host port the bridge's port is published on, if it is. */
export function publishedPort(info: Docker.ContainerInfo): number | undefined {
  return info.Ports.find((p) => p.PrivatePort === CONTAINER_PORT && p.PublicPort)?.PublicPort;
}

/**
 * The workspace's bridge container, running: reused when it runs the same image with the same
 * FUSE choice, restarted when stopped, replaced otherwise (the data volume stays).
 */
export async function ensureContainer(spec: BridgeContainerSpec): Promise<RunningBridge> {
  const { docker } = spec;
  const name = containerName(spec.workspaceId);
  const existing = await findContainer(docker, spec.workspaceId);
  if (existing) {
    const same =
      existing.Image === spec.image &&
      existing.Labels[LABELS.fuse] === String(spec.fuse) &&
      hostViewDirOf(existing) === viewDir(spec);
    const inspected = same ? await docker.getContainer(existing.Id).inspect() : undefined;
    const sameImage = inspected !== undefined && (await imageId(docker, spec.image)) === inspected.Image;
    if (sameImage && existing.State === 'running') {
      const port = publishedPort(existing);
      if (port) return { ...running(existing.Id, name, port, spec), reused: true };
    }
    if (sameImage && existing.State !== 'running') {
      try {
        // The secret may have been made anew (SecretStorage cleared): give the container this one.
        await putSecret(docker.getContainer(existing.Id), spec.secretHex);
        await docker.getContainer(existing.Id).start();
        const info = await findContainer(docker, spec.workspaceId);
        const port = info && publishedPort(info);
        if (port) return running(existing.Id, name, port, spec);
      } catch {
        // e.g. its port is taken now: make it anew below
      }
    }
    await docker.getContainer(existing.Id).remove({ force: true });
  }
  const port = await choosePort(spec.preferredPort);
  const container = await docker.createContainer(createOptions(spec, name, port));
  await putSecret(container, spec.secretHex);
  await container.start();
  return running(container.id, name, port, spec);
}

const viewDir = (spec: BridgeContainerSpec): string | undefined => (spec.fuse ? spec.hostViewDir : undefined);

function running(
  containerId: string,
  containerName: string,
  port: number,
  spec: BridgeContainerSpec,
): RunningBridge {
  const hostViewDir = viewDir(spec);
  return {
    containerId,
    containerName,
    port,
    image: spec.image,
    reused: false,
    ...(hostViewDir ? { hostViewDir } : {}),
  };
}

async function imageId(docker: Docker, image: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(image).inspect()).Id;
  } catch {
    return undefined;
  }
}

export function createOptions(
  spec: BridgeContainerSpec,
  name: string,
  port: number,
): Docker.ContainerCreateOptions {
  const hostConfig: Docker.HostConfig = {
    Binds: [`${spec.workspacePath}:/workspace:ro`],
    Mounts: [{ Type: 'volume', Source: volumeName(spec.workspaceId), Target: '/data' }],
    // Loopback only: every request is signed, but nothing else on the network should reach it.
    PortBindings: { [`${CONTAINER_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
    Tmpfs: { '/tmp': '' },
  };
  if (spec.fuse) {
    // FUSE needs the device and CAP_SYS_ADMIN (never --privileged); the entrypoint's one root
    // step hands /dev/fuse to uid 1000 and the bridge runs as that user.
    hostConfig.Devices = [
      { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
    ];
    hostConfig.CapAdd = ['SYS_ADMIN'];
    hostConfig.SecurityOpt = ['apparmor=unconfined'];
    const hostView = viewDir(spec);
    if (hostView) {
      // The mount the bridge makes below it propagates to the host folder (and its unmount too).
      hostConfig.Mounts!.push({
        Type: 'bind',
        Source: hostView,
        Target: CONTAINER_VIEW_PARENT,
        BindOptions: { Propagation: 'rshared' },
      });
    } else {
      hostConfig.Tmpfs = { '/tmp': '', [CONTAINER_VIEW_PARENT]: 'uid=1000,gid=1000,mode=755' };
    }
  } else {
    hostConfig.CapDrop = ['ALL'];
    hostConfig.SecurityOpt = ['no-new-privileges:true'];
  }
  const opts: Docker.ContainerCreateOptions = {
    name,
    Image: spec.image,
    Cmd: spec.fuse ? ['serve'] : ['serve', '--no-fuse'],
    Env: [`LIGHTHOUSE_AUTH_SECRET_FILE=${SECRET_PATH}`, `LIGHTHOUSE_LOG_LEVEL=${spec.logLevel ?? 'info'}`],
    ExposedPorts: { [`${CONTAINER_PORT}/tcp`]: {} },
    Labels: {
      [LABELS.managed]: 'true',
      [LABELS.workspace]: spec.workspaceId,
      [LABELS.workspacePath]: spec.workspacePath,
      [LABELS.fuse]: String(spec.fuse),
      ...(viewDir(spec) ? { [LABELS.hostView]: viewDir(spec)! } : {}),
    },
    HostConfig: hostConfig,
  };
  if (!spec.fuse) opts.User = `${BRIDGE_UID}:${BRIDGE_UID}`;
  return opts;
}

/** The secret as a file owned by the bridge's user, mode 0400, in a tar archive for putArchive at /. */
export function secretArchive(secretHex: string): Buffer {
  return tarArchive([
    { name: 'etc', type: 'dir', mode: 0o755, uid: 0, gid: 0 },
    { name: SECRET_DIR, type: 'dir', mode: 0o750, uid: BRIDGE_UID, gid: BRIDGE_UID },
    {
      name: `${SECRET_DIR}/secret`,
      type: 'file',
      mode: 0o400,
      uid: BRIDGE_UID,
      gid: BRIDGE_UID,
      data: Buffer.from(secretHex),
    },
  ]);
}

/** The secret goes in as a file, never on a command line. */
async function putSecret(container: Docker.Container, secretHex: string): Promise<void> {
  await container.putArchive(secretArchive(secretHex), { path: '/' });
}

export interface WaitReadyOptions {
  docker: Docker;
  containerId: string;
  port: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Waits for /ready to answer 200; fails early, with the container's last log lines, if it exits. */
export async function waitReady(opts: WaitReadyOptions): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last = 'no answer yet';
  for (let delay = 50; ; delay = Math.min(delay * 1.5, 500)) {
    opts.signal?.throwIfAborted();
    const r = await probe(opts.port);
    if (r.status === 200) return;
    last = r.status ? `/ready answered ${r.status}: ${r.body.slice(0, 300)}` : r.body;
    const state = await opts.docker
      .getContainer(opts.containerId)
      .inspect()
      .then((i) => i.State)
      .catch(() => undefined);
    if (!state || !state.Running) {
      const tail = await containerLogTail(opts.docker, opts.containerId, 20);
      throw new Error(`the bridge container exited (code ${state?.ExitCode ?? '?'}):\n${tail}`);
    }
    if (Date.now() > deadline) throw new Error(`the bridge did not become ready in time (${last})`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

function probe(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/ready', timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
  });
}

export async function containerLogTail(docker: Docker, id: string, lines: number): Promise<string> {
  try {
    const buf = (await docker
      .getContainer(id)
      .logs({ stdout: true, stderr: true, tail: lines, follow: false })) as Buffer;
    return demuxToText(buf);
  } catch (e) {
    return `(no logs: ${(e as Error).message})`;
  }
}

/** Docker's multiplexed log format (8-byte frame headers) as plain text; raw text passes through. */
export function demuxToText(buf: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2) && buf[i + 1] === 0) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  if (i === 0) return buf.toString('utf8');
  return Buffer.concat(out).toString('utf8');
}
