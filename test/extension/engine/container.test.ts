/**
 * The workspace's bridge container on the real Docker engine: the options it is created with as
 * the engine records them, the master secret handed in through putArchive, port choice, log
 * decoding, and ensureContainer's create / reuse / restart / replace with the real bridge image.
 * Skipped, saying why, where no engine answers. Everything made here is removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeClient, deriveAdminKey, deriveAgentKey } from '../../../bridge-image/protocol/index.js';
import {
  type BridgeContainerSpec,
  CONTAINER_PORT,
  containerLogTail,
  containerName,
  createOptions,
  demuxToText,
  ensureContainer,
  findContainer,
  secretArchive,
  volumeName,
  waitReady,
} from '../../../extension/engine/container.js';
import { hostViewVisible, parseMountInfo, prepareHostView } from '../../../extension/engine/host-view.js';
import { LABELS } from '../../../extension/engine/labels.js';
import { choosePort } from '../../../extension/engine/ports.js';
import { buildImage, docker as dockerCli, dockerOk, freePort } from '../../helpers/docker.js';
import { spawnSync } from 'node:child_process';
import { dockerClient, engineSkipReason, Made, TINY_IMAGE, uniqueName } from '../engine-helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lh-ext-ctr-'));
const made = new Made();
const servers: net.Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  await made.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Holds a loopback port, as another program would. */
async function holdPort(port = 0): Promise<number> {
  const s = net.createServer();
  servers.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', resolve);
  });
  return (s.address() as net.AddressInfo).port;
}

/** Can this port be listened on now? */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('choosePort', () => {
  it('takes the preferred port when it is free', async () => {
    const port = await freePort();
    expect(await choosePort(port)).toBe(port);
  });

  it('falls back to another free port when the preferred one is taken', async () => {
    const taken = await holdPort();
    const port = await choosePort(taken);
    expect(port).not.toBe(taken);
    expect(port).toBeGreaterThan(0);
    expect(await canListen(port)).toBe(true);
  });
});

const skip = engineSkipReason();
if (skip) console.warn(`container tests on the engine SKIPPED: ${skip}`);

/** A workspace id of our own: names the container and volume, and labels them. */
const newWorkspaceId = () => randomBytes(16).toString('hex');

function spec(over: Partial<BridgeContainerSpec> & { docker: Docker }): BridgeContainerSpec {
  const workspacePath = path.join(dir, uniqueName('ws'));
  fs.mkdirSync(workspacePath, { recursive: true });
  return {
    image: TINY_IMAGE,
    workspacePath,
    workspaceId: newWorkspaceId(),
    secretHex: randomBytes(32).toString('hex'),
    fuse: false,
    preferredPort: 0,
    ...over,
  };
}

/** Output of `docker exec` (as `user`), trimmed; rejects when the command fails. */
const exec = (container: string, cmd: string[], user?: string) =>
  dockerOk(['exec', ...(user ? ['-u', user] : []), container, ...cmd]);

describe.skipIf(skip !== null)('the container pieces on the real engine', () => {
  const docker = dockerClient();

  /** A container of the small image running `cmd`, started, removed at the end. */
  async function run(cmd: string[], extra: Partial<Docker.ContainerCreateOptions> = {}) {
    const name = uniqueName('lh-ext-ctr');
    made.containers.push(name);
    const c = await docker.createContainer({ name, Image: TINY_IMAGE, Entrypoint: [], Cmd: cmd, ...extra });
    await c.start();
    return c;
  }

  it('putArchive of our tar makes the secret file owned by uid 1000, mode 0400, readable by it alone', async () => {
    const c = await run(['sleep', 'infinity']);
    const secret = randomBytes(32).toString('hex');
    await c.putArchive(secretArchive(secret), { path: '/' });
    const stat = await exec(c.id, [
      'stat',
      '-c',
      '%n %u:%g %a',
      '/etc',
      '/etc/lighthouse',
      '/etc/lighthouse/secret',
    ]);
    expect(stat.split('\n')).toEqual([
      '/etc 0:0 755',
      '/etc/lighthouse 1000:1000 750',
      '/etc/lighthouse/secret 1000:1000 400',
    ]);
    expect(await exec(c.id, ['cat', '/etc/lighthouse/secret'], '1000')).toBe(secret);
    const other = await dockerCli(['exec', '-u', '1001', c.id, 'cat', '/etc/lighthouse/secret']);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/Permission denied/);
    // Existing files of /etc are untouched.
    expect(await exec(c.id, ['sh', '-c', 'test -s /etc/passwd && echo ok'])).toBe('ok');
  });

  it('creates the bridge with loopback-only ports, a read-only workspace, its volume and no capabilities', async () => {
    const s = spec({ docker });
    const port = await freePort();
    const name = uniqueName('lh-ext-opts');
    made.containers.push(name);
    made.volumes.push(volumeName(s.workspaceId));
    const c = await docker.createContainer(createOptions(s, name, port));
    const info = await c.inspect();
    expect(info.HostConfig.PortBindings).toEqual({
      [`${CONTAINER_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }],
    });
    expect(info.HostConfig.Binds).toEqual([`${s.workspacePath}:/workspace:ro`]);
    const mounts = Object.fromEntries(info.Mounts.map((m) => [m.Destination, m]));
    expect(mounts['/workspace']).toMatchObject({ Type: 'bind', Source: s.workspacePath, RW: false });
    expect(mounts['/data']).toMatchObject({ Type: 'volume', Name: volumeName(s.workspaceId), RW: true });
    expect((await docker.getVolume(volumeName(s.workspaceId)).inspect()).Name).toBe(
      volumeName(s.workspaceId),
    );
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.CapAdd ?? []).toEqual([]);
    expect(info.HostConfig.Devices ?? []).toEqual([]);
    expect(info.HostConfig.SecurityOpt).toEqual(['no-new-privileges:true']);
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.Tmpfs).toEqual({ '/tmp': '' });
    expect(info.Config.User).toBe('1000:1000');
    expect(info.Config.Cmd).toEqual(['serve', '--no-fuse']);
    expect(info.Config.Env).toContain('LIGHTHOUSE_AUTH_SECRET_FILE=/etc/lighthouse/secret');
    // The secret is never in the environment or on the command line.
    expect(JSON.stringify(info.Config)).not.toContain(s.secretHex);
    expect(info.Config.Labels).toMatchObject({
      [LABELS.managed]: 'true',
      [LABELS.workspace]: s.workspaceId,
      [LABELS.workspacePath]: s.workspacePath,
      [LABELS.fuse]: 'false',
    });
    expect((await findContainer(docker, s.workspaceId))?.Id).toBe(info.Id);
  });

  it('adds /dev/fuse and SYS_ADMIN only when FUSE is on, and never --privileged', async () => {
    const s = spec({ docker, fuse: true });
    const name = uniqueName('lh-ext-fuse');
    made.containers.push(name);
    made.volumes.push(volumeName(s.workspaceId));
    const info = await (await docker.createContainer(createOptions(s, name, await freePort()))).inspect();
    expect(info.HostConfig.Devices).toEqual([
      { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
    ]);
    expect(info.HostConfig.CapAdd).toEqual(['SYS_ADMIN']);
    expect(info.HostConfig.CapDrop ?? []).toEqual([]);
    expect(info.HostConfig.SecurityOpt).toEqual(['apparmor=unconfined']);
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.Tmpfs).toEqual({ '/tmp': '', '/mnt/lighthouse': 'uid=1000,gid=1000,mode=755' });
    // Root only for the entrypoint's one step, which then becomes uid 1000.
    expect(info.Config.User).toBe('');
    expect(info.Config.Cmd).toEqual(['serve']);
    expect(info.Config.Labels?.[LABELS.fuse]).toBe('true');
  });

  it('decodes the engine’s multiplexed logs of stdout and stderr, long lines and UTF-8 included', async () => {
    const long = 'x'.repeat(40_000); // longer than one log message: the engine splits it in frames
    const c = await run([
      'sh',
      '-c',
      `echo out-1; sleep 0.2; echo 'err-1 héllo ✓' >&2; sleep 0.2; head -c 40000 /dev/zero | tr '\\0' x; echo; echo out-2`,
    ]);
    await c.wait();
    const raw = (await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    expect(raw[0] === 1 || raw[0] === 2).toBe(true); // really multiplexed
    expect(demuxToText(raw)).toBe(`out-1\nerr-1 héllo ✓\n${long}\nout-2\n`);
    // The tail counts the engine's log messages (the long line is several): the last one here.
    expect(await containerLogTail(docker, c.id, 1)).toBe('out-2\n');
  });

  it('passes a TTY container’s raw log text through', async () => {
    const c = await run(['sh', '-c', 'echo plain; echo text'], { Tty: true });
    await c.wait();
    const raw = (await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    expect(demuxToText(raw)).toBe('plain\r\ntext\r\n');
  });

  it('says when there are no logs to show', async () => {
    expect(await containerLogTail(docker, uniqueName('lh-ext-none'), 5)).toMatch(
      /^\(no logs: .*no such container/i,
    );
  });

  it('waitReady reports a container that exits, with its last log lines', async () => {
    // The pause: the engine copies stdout and stderr apart, so lines written at once may swap.
    const c = await run([
      'sh',
      '-c',
      'echo starting; sleep 0.2; echo "fatal: cannot open the store" >&2; exit 3',
    ]);
    await expect(
      waitReady({ docker, containerId: c.id, port: await freePort(), timeoutMs: 30_000 }),
    ).rejects.toThrow('the bridge container exited (code 3):\nstarting\nfatal: cannot open the store\n');
  });

  it('waitReady gives up in time, saying what /ready last answered', async () => {
    const c = await run(['sleep', 'infinity']);
    const server = http.createServer((_req, res) => {
      res.statusCode = 503;
      res.end('{"ready":false,"why":"migrating"}');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await expect(waitReady({ docker, containerId: c.id, port, timeoutMs: 500 })).rejects.toThrow(
      'the bridge did not become ready in time (/ready answered 503: {"ready":false,"why":"migrating"})',
    );
    const closed = await freePort();
    await expect(waitReady({ docker, containerId: c.id, port: closed, timeoutMs: 300 })).rejects.toThrow(
      `the bridge did not become ready in time (connect ECONNREFUSED 127.0.0.1:${closed})`,
    );
  });

  it('waitReady returns once /ready answers 200, and stops when cancelled', async () => {
    const c = await run(['sleep', 'infinity']);
    let calls = 0;
    const server = http.createServer((_req, res) => {
      res.statusCode = ++calls < 3 ? 503 : 200;
      res.end();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await waitReady({ docker, containerId: c.id, port, timeoutMs: 10_000 });
    expect(calls).toBe(3);
    const ac = new AbortController();
    ac.abort();
    await expect(waitReady({ docker, containerId: c.id, port, signal: ac.signal })).rejects.toThrow(/abort/i);
  });
});

/** The bridge image, built here from the repository as the README says (a cache hit when it exists). */
const BRIDGE_IMAGE = process.env.LIGHTHOUSE_TEST_BRIDGE_IMAGE ?? 'lighthouse-bridge:ext-test';
const bridgeSkip = skip;

describe.skipIf(bridgeSkip !== null)('ensureContainer with the real bridge image', () => {
  const docker = dockerClient();
  // Two names of our own for the image: another run may retag lighthouse-bridge:test meanwhile.
  const imageA = `${uniqueName('lh-ext-bridge')}:a`;
  const imageB = imageA.replace(/:a$/, ':b');
  const s = spec({ docker, image: imageA });
  const id = s.workspaceId;

  beforeAll(async () => {
    if (!process.env.LIGHTHOUSE_TEST_BRIDGE_IMAGE) await buildImage(BRIDGE_IMAGE, { timeoutMs: 15 * 60_000 });
    made.images.push(imageA, imageB);
    made.volumes.push(volumeName(id));
    await dockerOk(['tag', BRIDGE_IMAGE, imageA]);
    await dockerOk(['tag', BRIDGE_IMAGE, imageB]);
    fs.writeFileSync(path.join(s.workspacePath, 'hello.txt'), 'hello from the workspace\n');
  }, 15 * 60_000);
  afterAll(async () => {
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.workspace}=${id}`] },
    });
    made.containers.push(...left.map((c) => c.Id));
  });

  /** A signed admin call with this master secret: answers only if the bridge uses that secret. */
  async function signedCall(port: number, secretHex: string): Promise<void> {
    const client = new BridgeClient({
      baseUrl: `http://127.0.0.1:${port}`,
      agentId: 'admin',
      role: 'admin',
      key: deriveAdminKey(Buffer.from(secretHex, 'hex')),
    });
    try {
      await client.query({ limit: 1 });
    } finally {
      await client.close();
    }
  }

  let first: Awaited<ReturnType<typeof ensureContainer>>;

  it('creates the container on the preferred port, with the secret in place, and it becomes ready', async () => {
    const preferredPort = await freePort();
    first = await ensureContainer({ ...s, preferredPort });
    expect(first).toMatchObject({
      containerName: containerName(id),
      port: preferredPort,
      image: imageA,
      reused: false,
    });
    await waitReady({ docker, containerId: first.containerId, port: first.port, timeoutMs: 60_000 });

    const name = first.containerName;
    expect(await dockerOk(['port', name, `${CONTAINER_PORT}/tcp`])).toBe(`127.0.0.1:${preferredPort}`);
    expect(await exec(name, ['stat', '-c', '%u:%g %a', '/etc/lighthouse/secret'])).toBe('1000:1000 400');
    expect(await exec(name, ['cat', '/etc/lighthouse/secret'])).toBe(s.secretHex);
    await signedCall(first.port, s.secretHex);
    await expect(signedCall(first.port, randomBytes(32).toString('hex'))).rejects.toThrow();

    expect(await exec(name, ['cat', '/workspace/hello.txt'])).toBe('hello from the workspace');
    const write = await dockerCli(['exec', '-u', '0', name, 'touch', '/workspace/new-file']);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/);
    expect(fs.existsSync(path.join(s.workspacePath, 'new-file'))).toBe(false);
    await exec(name, ['sh', '-c', 'echo kept > /data/marker']);
  });

  it('takes over the running container on a second call', async () => {
    const again = await ensureContainer({ ...s, preferredPort: await freePort() });
    expect(again).toEqual({ ...first, reused: true });
  });

  it('restarts a stopped container with the secret it is given now', async () => {
    await docker.getContainer(first.containerId).stop({ t: 10 });
    const secretHex = randomBytes(32).toString('hex'); // SecretStorage was cleared: a new secret
    const restarted = await ensureContainer({ ...s, secretHex, preferredPort: await freePort() });
    expect(restarted).toEqual({ ...first, reused: false });
    await waitReady({ docker, containerId: restarted.containerId, port: restarted.port, timeoutMs: 60_000 });
    await signedCall(restarted.port, secretHex);
    await expect(signedCall(restarted.port, s.secretHex)).rejects.toThrow();
  });

  it('replaces a container of another image, keeping the data volume, on another port when the old one is taken', async () => {
    const taken = await holdPort();
    const replaced = await ensureContainer({ ...s, image: imageB, preferredPort: taken });
    expect(replaced.reused).toBe(false);
    expect(replaced.containerId).not.toBe(first.containerId);
    expect(replaced.port).not.toBe(taken);
    expect(replaced.image).toBe(imageB);
    const all = await docker.listContainers({ all: true, filters: { label: [`${LABELS.workspace}=${id}`] } });
    expect(all.map((c) => c.Id)).toEqual([replaced.containerId]);
    await waitReady({ docker, containerId: replaced.containerId, port: replaced.port, timeoutMs: 60_000 });
    expect(await exec(replaced.containerName, ['cat', '/data/marker'])).toBe('kept');
  });

  it('with FUSE and a host folder: the view shows on the host (rshared), works there, and goes with the container', async () => {
    const f = spec({ docker, image: imageA, fuse: true });
    made.volumes.push(volumeName(f.workspaceId));
    fs.writeFileSync(path.join(f.workspacePath, 'hello.txt'), 'hello\n');
    const hostDir = path.join(dir, uniqueName('view'));
    const mountPoint = path.join(hostDir, 'project');
    const mountinfo = () => parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    try {
      // This machine's / is a private mount (no systemd): as root, the folder is made a shared mount.
      expect(await prepareHostView(hostDir)).toEqual({ ok: true, hostDir, mountPoint });
      const r = await ensureContainer({ ...f, hostViewDir: hostDir, preferredPort: await freePort() });
      made.containers.push(r.containerId);
      expect(r.hostViewDir).toBe(hostDir);
      await waitReady({ docker, containerId: r.containerId, port: r.port, timeoutMs: 60_000 });
      const inspected = await docker.getContainer(r.containerId).inspect();
      expect(inspected.Mounts.find((m) => m.Destination === '/mnt/lighthouse')).toMatchObject({
        Type: 'bind',
        Source: hostDir,
        Propagation: 'rshared',
      });
      expect(inspected.Config.Labels?.[LABELS.hostView]).toBe(hostDir);

      // The mount the bridge made inside the container is here on the host.
      expect(hostViewVisible(mountPoint)).toBe(true);
      expect(fs.readFileSync(path.join(mountPoint, 'current', 'hello.txt'), 'utf8')).toBe('hello\n');
      const admin = new BridgeClient({
        baseUrl: `http://127.0.0.1:${r.port}`,
        agentId: 'admin',
        role: 'admin',
        key: deriveAdminKey(Buffer.from(f.secretHex, 'hex')),
      });
      try {
        await admin.addAgent('bob');
        // lighthouse agent on the host, pointed at the host view, runs in bob's shadow there.
        const keyFile = path.join(dir, `${uniqueName('bob')}.key`);
        fs.writeFileSync(keyFile, deriveAgentKey(Buffer.from(f.secretHex, 'hex'), 'bob').toString('hex'), {
          mode: 0o600,
        });
        const run = spawnSync(
          process.execPath,
          [
            path.resolve(__dirname, '../../../dist/lighthouse.js'),
            ...['agent', 'bob', '--bridge', `http://127.0.0.1:${r.port}`, '--project', f.workspacePath],
            ...['--key-file', keyFile, '--mount', mountPoint],
            ...['--command', 'sh -c "pwd; echo from-the-host > made-by-agent.txt"'],
          ],
          { encoding: 'utf8', timeout: 30_000 },
        );
        expect(run.status, run.stderr).toBe(0);
        expect(run.stdout.trim()).toBe(path.join(mountPoint, 'shadows', 'bob'));
        const { changes } = await admin.changes({ agent: 'bob' });
        expect(changes.map((c) => [c.path, c.status])).toEqual([['made-by-agent.txt', 'added']]);
        expect((await admin.readFile('made-by-agent.txt', { agent: 'bob' })).toString('utf8')).toBe(
          'from-the-host\n',
        );
        expect(fs.existsSync(path.join(f.workspacePath, 'made-by-agent.txt'))).toBe(false);
      } finally {
        await admin.close();
      }
      // The next start (a window reload) takes the container over, and its view stays mounted.
      expect(await prepareHostView(hostDir)).toEqual({ ok: true, hostDir, mountPoint });
      const again = await ensureContainer({ ...f, hostViewDir: hostDir, preferredPort: await freePort() });
      expect(again).toMatchObject({ containerId: r.containerId, reused: true, hostViewDir: hostDir });
      expect(hostViewVisible(mountPoint)).toBe(true);
      // Stopping the container unmounts the view, on the host too.
      await docker.getContainer(r.containerId).stop({ t: 15 });
      expect(mountinfo().some((m) => m.mountPoint === mountPoint)).toBe(false);
    } finally {
      spawnSync('umount', ['-l', mountPoint]);
      spawnSync('umount', ['-l', hostDir]);
    }
  });

  it('waitReady reports a bridge that cannot start, with its own words', async () => {
    const bad = spec({ docker, image: imageA, secretHex: 'not a secret' });
    made.volumes.push(volumeName(bad.workspaceId));
    const r = await ensureContainer({ ...bad, preferredPort: await freePort() });
    made.containers.push(r.containerId);
    const e = await waitReady({ docker, containerId: r.containerId, port: r.port, timeoutMs: 60_000 }).catch(
      (x: unknown) => x as Error,
    );
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(/^the bridge container exited \(code [1-9]\d*\):\n/);
    expect((e as Error).message).toMatch(/master secret/);
  });
});
