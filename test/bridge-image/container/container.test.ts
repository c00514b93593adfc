/**
 * The bridge image against a real Docker engine: what a user running `docker build` / `docker run`
 * (README, "Running the bridge in a container") would check. Skipped, saying why, where no engine
 * answers; CI starts one with ../shared/tools/docker-env.sh.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeClient, deriveAdminKey, deriveAgentKey } from '../../../bridge-image/protocol/index.js';
import { tempDir } from '../../helpers/bridge-process.js';
import {
  baseImage,
  buildImage,
  COMPOSE_FILE,
  composeCommand,
  docker,
  dockerOk,
  engineUnavailable,
  freePort,
  inspect,
  publishedPort,
  ROOT,
  runCommand,
  uniqueName,
  waitHealthy,
  waitReady,
} from '../../helpers/docker.js';

const IMAGE = 'lighthouse-bridge:test';
const MB = 1024 * 1024;
const unavailable = engineUnavailable();
if (unavailable) console.warn(`container tests SKIPPED: ${unavailable}`);
const composeCmd = unavailable ? null : composeCommand();
if (!unavailable && !composeCmd)
  console.warn('compose tests SKIPPED: neither `docker compose` nor `docker-compose` is installed here');

/** Every file under dir with its mode, mtime and SHA-256: what "byte-for-byte unchanged" compares. */
function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    const st = fs.lstatSync(abs);
    const meta = `${st.mode.toString(8)} ${st.mtimeMs}`;
    if (st.isDirectory()) {
      out[rel || '.'] = `dir ${meta}`;
      for (const e of fs.readdirSync(abs).sort()) walk(path.join(rel, e));
    } else if (st.isSymbolicLink()) out[rel] = `link ${fs.readlinkSync(abs)}`;
    else out[rel] = `file ${meta} ${createHash('sha256').update(fs.readFileSync(abs)).digest('hex')}`;
  };
  walk('');
  return out;
}

describe.skipIf(unavailable !== null)('the bridge image on a real Docker engine', () => {
  const dir = unavailable ? '' : tempDir('lh-container-');
  const workspace = path.join(dir, 'workspace');
  const secretFile = path.join(dir, 'secret');
  const secret = randomBytes(32);
  const volume = uniqueName('lh-test-data');
  const containers: string[] = [];
  let before: Record<string, string>;
  let port: number;
  let url: string;

  const admin = () =>
    new BridgeClient({ baseUrl: url, agentId: 'admin', role: 'admin', key: deriveAdminKey(secret) });
  const agent = (id: string) =>
    new BridgeClient({ baseUrl: url, agentId: id, key: deriveAgentKey(secret, id) });

  /** `docker run -d` of the image as the README shows it: read-only root, tmpfs /tmp, loopback port. */
  async function runBridge(
    extra: string[] = [],
    o: { hostPort?: number; data?: string; prefix?: string; aside?: boolean } = {},
  ): Promise<string> {
    const name = uniqueName(o.prefix ?? 'lh-test-bridge');
    // A container started aside goes first in the list: later tests use the last one, their bridge.
    if (o.aside) containers.unshift(name);
    else containers.push(name);
    await dockerOk([
      'run',
      '-d',
      '--name',
      name,
      '--read-only',
      '--tmpfs',
      '/tmp',
      '-p',
      `127.0.0.1:${o.hostPort ?? port}:8765`,
      ...(o.data === undefined ? ['-v', `${volume}:/data`] : o.data ? ['-v', `${o.data}:/data`] : []),
      '-v',
      `${workspace}:/workspace:ro`,
      '-v',
      `${secretFile}:/run/secrets/lighthouse_secret:ro`,
      '-e',
      'LIGHTHOUSE_AUTH_SECRET_FILE=/run/secrets/lighthouse_secret',
      ...extra,
      IMAGE,
    ]);
    return name;
  }

  /** Stops a container the way `docker stop` does (SIGTERM, then SIGKILL after 10 s). */
  async function stop(name: string): Promise<{ ms: number; exitCode: number; logs: string }> {
    const t0 = Date.now();
    await dockerOk(['stop', '-t', '10', name], { timeoutMs: 30_000 });
    const ms = Date.now() - t0;
    const exitCode = await inspect<number>(name, '.State.ExitCode');
    const logs = await docker(['logs', name]);
    return { ms, exitCode, logs: logs.stdout + logs.stderr };
  }

  beforeAll(async () => {
    fs.mkdirSync(path.join(workspace, 'src', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(workspace, 'README.md'), '# a project\n');
    fs.writeFileSync(path.join(workspace, 'src', 'main.ts'), 'export const x = 1;\n');
    fs.writeFileSync(path.join(workspace, 'src', 'deep', 'blob.bin'), randomBytes(4096));
    fs.symlinkSync('src/main.ts', path.join(workspace, 'link.ts'));
    // The bridge runs as uid 1000: the workspace must be readable, the secret file its own.
    for (const d of [dir, workspace, path.join(workspace, 'src'), path.join(workspace, 'src', 'deep')])
      fs.chmodSync(d, 0o755);
    fs.writeFileSync(secretFile, secret.toString('hex') + '\n', { mode: 0o600 });
    if (process.getuid?.() === 0) fs.chownSync(secretFile, 1000, 1000);
    else if (process.getuid?.() !== 1000) fs.chmodSync(secretFile, 0o644);
    before = treeDigest(workspace);
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const t0 = Date.now();
    await buildImage(IMAGE);
    console.log(
      `container tests: ${IMAGE} built on ${baseImage()} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }, 20 * 60_000);

  afterAll(async () => {
    for (const c of containers) await docker(['rm', '-f', '-v', c]);
    await docker(['volume', 'rm', '-f', volume]);
  }, 60_000);

  it('is at most 300 MB, labelled, with a CycloneDX SBOM of its npm packages at the labelled path', async () => {
    const [img] = JSON.parse(await dockerOk(['image', 'inspect', IMAGE])) as {
      Size: number;
      Config: {
        Labels: Record<string, string>;
        User: string;
        Entrypoint: string[];
        ExposedPorts: Record<string, unknown>;
        Healthcheck?: { Test: string[] };
        Env: string[];
      };
    }[];
    expect(img!.Size / MB).toBeLessThanOrEqual(300);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
      license: string;
    };
    const labels = img!.Config.Labels;
    expect(labels['org.opencontainers.image.title']).toMatch(/Lighthouse/);
    expect(labels['org.opencontainers.image.version']).toBe(pkg.version);
    expect(labels['org.opencontainers.image.licenses']).toBe(pkg.license);
    expect(labels['org.opencontainers.image.source']).toMatch(/^https:\/\//);
    // It starts as root only for entrypoint.sh's /dev/fuse step; the bridge itself runs as uid 1000 (tested below).
    expect(img!.Config.Entrypoint).toEqual(['/bin/sh', '/opt/lighthouse/entrypoint.sh']);
    expect(Object.keys(img!.Config.ExposedPorts)).toEqual(['8765/tcp']);
    expect(img!.Config.Healthcheck?.Test.join(' ')).toContain('node');
    expect(img!.Config.Env).toEqual(
      expect.arrayContaining([
        'LIGHTHOUSE_HOST=0.0.0.0',
        'LIGHTHOUSE_DATA_DIR=/data',
        'LIGHTHOUSE_WORKSPACE=/workspace',
      ]),
    );

    const sbomPath = labels['dev.lighthouse.sbom'];
    expect(sbomPath).toMatch(/^\//);
    const sbom = JSON.parse(await dockerOk(['run', '--rm', '--entrypoint', 'cat', IMAGE, sbomPath!])) as {
      bomFormat: string;
      specVersion: string;
      metadata: { component: { name: string; version: string } };
      components: { name: string; version: string; purl: string }[];
    };
    expect(sbom.bomFormat).toBe('CycloneDX');
    expect(sbom.metadata.component).toMatchObject({ name: 'lighthouse-bridge', version: pkg.version });
    // The packages in the image (better-sqlite3) and bundled into bridge.js (ws, zod), at the lock's versions.
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    const listed = new Map(sbom.components.map((c) => [c.name, c.version]));
    for (const name of ['better-sqlite3', 'bindings', 'ws', 'zod'])
      expect(listed.get(name), name).toBe(lock.packages[`node_modules/${name}`]!.version);
    expect(listed.has('vitest')).toBe(false);
  });

  it('starts on a read-only root filesystem, becomes healthy within 20 s; /ready: store open, FUSE disabled without /dev/fuse', async () => {
    const name = await runBridge();
    expect(await inspect<boolean>(name, '.HostConfig.ReadonlyRootfs')).toBe(true);
    const ms = await waitHealthy(name, 20_000);
    expect(ms).toBeLessThan(20_000);
    const ready = (await waitReady(url, 5000)) as {
      ready: boolean;
      store: { open: boolean };
      fuse: { enabled: boolean };
    };
    expect(ready.ready).toBe(true);
    expect(ready.store.open).toBe(true);
    expect(ready.fuse.enabled).toBe(false);
    // Nothing outside /data and /tmp can be written.
    const write = await docker(['exec', name, 'sh', '-c', 'echo x > /opt/lighthouse/x']);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/);
    expect((await docker(['exec', name, 'sh', '-c', 'echo x > /tmp/x'])).code).toBe(0);
  });

  it('runs the bridge process as uid 1000, not root', async () => {
    const name = containers.at(-1)!;
    const status = await dockerOk(['exec', name, 'cat', '/proc/1/status']);
    const uids = /^Uid:\s+(.*)$/m.exec(status)![1]!.trim().split(/\s+/);
    expect(uids).toEqual(['1000', '1000', '1000', '1000']);
    const cmdline = await dockerOk(['exec', name, 'cat', '/proc/1/cmdline']);
    expect(cmdline.split('\0')).toContain('/opt/lighthouse/dist/bridge.js');
  });

  it('mounts the FUSE view with /dev/fuse and SYS_ADMIN (no --privileged), served by uid 1000', async () => {
    const fusePort = await freePort();
    const fuseFlags = ['--tmpfs', '/mnt/lighthouse:uid=1000,gid=1000,mode=755', '--device', '/dev/fuse'];
    const securityFlags = ['--cap-add', 'SYS_ADMIN', '--security-opt', 'apparmor=unconfined'];
    const name = await runBridge([...fuseFlags, ...securityFlags], {
      hostPort: fusePort,
      data: '',
      prefix: 'lh-test-fuse',
      aside: true,
    });
    const fuseUrl = `http://127.0.0.1:${fusePort}`;
    const ready = (await waitReady(fuseUrl, 20_000)) as { fuse: { mounted: boolean; reason: string | null } };
    expect(ready.fuse, (await docker(['logs', name])).stderr).toEqual({
      enabled: true,
      mounted: true,
      reason: null,
      mountPoint: '/mnt/lighthouse/project',
    });
    const writer = new BridgeClient({
      baseUrl: fuseUrl,
      agentId: 'writer',
      key: deriveAgentKey(secret, 'writer'),
    });
    await writer.writeFile('src/from-agent.ts', 'export const fromAgent = "visible in the mount";\n');
    const view = '/mnt/lighthouse/project';
    expect(await dockerOk(['exec', name, 'cat', `${view}/shadows/writer/src/from-agent.ts`])).toContain(
      'visible in the mount',
    );
    expect(await dockerOk(['exec', name, 'grep', '-r', 'fromAgent', `${view}/shadows/writer/`])).toContain(
      'src/from-agent.ts',
    );
    expect(await dockerOk(['exec', name, 'cat', `${view}/current/README.md`])).toBe('# a project');
    const status = await dockerOk(['exec', name, 'cat', '/proc/1/status']);
    expect(/^Uid:\s+(.*)$/m.exec(status)![1]!.trim().split(/\s+/)).toEqual(['1000', '1000', '1000', '1000']);
    const ps = await dockerOk([
      'exec',
      name,
      'sh',
      '-c',
      'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo " uid=$(awk \'/^Uid/{print $2}\' $p/status)"; done',
    ]);
    const daemon = ps.split('\n').find((l) => l.includes('fuse-daemon.js'));
    expect(daemon).toMatch(/uid=1000$/);
    await writer.close();
  });

  it('publishes the port on 127.0.0.1 only', async () => {
    const name = containers.at(-1)!;
    const bindings = await publishedPort(name);
    expect(bindings).toEqual([{ hostIp: '127.0.0.1', port }]);
    expect(await dockerOk(['port', name, '8765/tcp'])).toBe(`127.0.0.1:${port}`);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('keeps events across docker stop + start, and across re-creating the container on the same volume', async () => {
    let name = containers.at(-1)!;
    const c = agent('keeper');
    const appended = await c.append({
      events: Array.from({ length: 5 }, (_, i) => ({ type: 'custom.note', data: { i, text: 'survive me' } })),
    });
    await c.close();
    const ids = appended.events.map((e) => e.id);

    const stopped = await stop(name);
    expect(stopped.exitCode).toBe(0);
    await dockerOk(['start', name]);
    await waitReady(url);
    const afterRestart = agent('keeper');
    expect((await afterRestart.query({ type: 'custom.note' })).events.map((e) => e.id)).toEqual(ids);
    await afterRestart.close();

    expect((await stop(name)).exitCode).toBe(0);
    await dockerOk(['rm', '-v', name]);
    name = await runBridge();
    await waitReady(url);
    const recreated = agent('keeper');
    const found = await recreated.query({ type: 'custom.note' });
    expect(found.events.map((e) => e.id)).toEqual(ids);
    expect(found.events.map((e) => e.data)).toEqual(ids.map((_, i) => ({ i, text: 'survive me' })));
    await recreated.close();
  });

  it('docker stop during concurrent appends exits 0 within 10 s with every acknowledged event stored', async () => {
    const name = containers.at(-1)!;
    await waitReady(url);
    const clients = Array.from({ length: 16 }, (_, i) => agent(`w${i}`));
    const acked: { seq: number; id: string; marker: string }[] = [];
    let halt = false;
    const loops = clients.map(async (c, w) => {
      for (let i = 0; !halt; i++) {
        const marker = `${c.agentId}-${w}-${i}`;
        try {
          const r = await c.append({ events: [{ type: 'custom.write', data: { marker } }] });
          acked.push({ seq: r.events[0]!.seq, id: r.events[0]!.id, marker });
        } catch {
          return; // the bridge went away: what was not acknowledged may be lost
        }
      }
    });
    await new Promise((r) => setTimeout(r, 700));
    const stopped = await stop(name);
    halt = true;
    await Promise.all(loops);
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    expect(stopped.exitCode).toBe(0);
    expect(stopped.ms).toBeLessThan(10_000);
    expect(stopped.logs).toContain('"msg":"bridge stopped"');
    expect(acked.length).toBeGreaterThan(20);

    await dockerOk(['start', name]);
    await waitReady(url);
    const a = admin();
    const stored = new Map<number, { id: string; data: unknown }>();
    for (let after = 0; ;) {
      const page = await a.query({ after, limit: 10_000 });
      for (const e of page.events) stored.set(e.seq, { id: e.id, data: e.data });
      if (page.nextCursor === null) break;
      after = page.nextCursor;
    }
    for (const e of acked) {
      expect(stored.get(e.seq)?.id, `acknowledged event seq ${e.seq} (${e.marker}) is missing`).toBe(e.id);
      expect(stored.get(e.seq)!.data).toEqual({ marker: e.marker });
    }
    const shutdowns = await a.query({ type: 'system.shutdown' });
    expect(shutdowns.events.at(-1)?.data).toEqual({ reason: 'SIGTERM' });
    await a.close();
  });

  it('mounts the workspace read-only: writes through the mount fail', async () => {
    const name = containers.at(-1)!;
    expect(await dockerOk(['exec', name, 'cat', '/workspace/src/main.ts'])).toBe('export const x = 1;');
    const write = await docker(['exec', name, 'sh', '-c', 'echo changed > /workspace/README.md']);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/);
    expect((await docker(['exec', name, 'rm', '-f', '/workspace/src/main.ts'])).code).not.toBe(0);
    expect((await stop(name)).exitCode).toBe(0);
  });

  describe.skipIf(composeCmd === null)('bridge-image/compose.yaml', () => {
    const project = uniqueName('lh-test-compose');
    let env: NodeJS.ProcessEnv;
    let composeUrl: string;
    const run = (...args: string[]) =>
      runCommand(composeCmd!, ['-p', project, '-f', COMPOSE_FILE, ...args], env);

    beforeAll(async () => {
      const p = await freePort();
      composeUrl = `http://127.0.0.1:${p}`;
      env = {
        LIGHTHOUSE_IMAGE: IMAGE,
        LIGHTHOUSE_PROJECT_DIR: workspace,
        LIGHTHOUSE_SECRET_FILE: secretFile,
        LIGHTHOUSE_PORT: String(p),
      };
    });
    afterAll(async () => {
      await run('down', '-v', '--remove-orphans');
    }, 60_000);

    it(`is valid for ${composeCmd?.join(' ')} and runs the bridge read-only, limited, healthy, on 127.0.0.1`, async () => {
      const config = await run('config');
      expect(config.code, config.stderr).toBe(0);
      const up = await run('up', '-d', '--no-build');
      expect(up.code, up.stderr).toBe(0);
      const id = (await run('ps', '-q', 'bridge')).stdout.trim();
      expect(id).toMatch(/^[0-9a-f]{12,}$/);
      await waitHealthy(id, 30_000);

      const host = await inspect<{
        ReadonlyRootfs: boolean;
        Tmpfs: Record<string, string>;
        Memory: number;
        NanoCpus: number;
        RestartPolicy: { Name: string };
        PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
      }>(id, '.HostConfig');
      expect(host.ReadonlyRootfs).toBe(true);
      expect(Object.keys(host.Tmpfs)).toEqual(['/tmp']);
      expect(host.Memory).toBe(512 * MB);
      expect(host.NanoCpus).toBe(2e9);
      expect(host.RestartPolicy.Name).toBe('unless-stopped');
      expect(host.PortBindings['8765/tcp']).toEqual([
        { HostIp: '127.0.0.1', HostPort: new URL(composeUrl).port },
      ]);
      const mounts = await inspect<{ Destination: string; Type: string; RW: boolean }[]>(id, '.Mounts');
      const at = (d: string) => mounts.find((m) => m.Destination === d);
      expect(at('/workspace')).toMatchObject({ Type: 'bind', RW: false });
      expect(at('/data')).toMatchObject({ Type: 'volume', RW: true });
      expect(at('/run/secrets/lighthouse_secret')?.RW).toBe(false);

      // The secret given as a compose secret is the one the bridge checks signatures with.
      const c = new BridgeClient({
        baseUrl: composeUrl,
        agentId: 'composed',
        key: deriveAgentKey(secret, 'composed'),
      });
      const r = await c.append({ events: [{ type: 'custom.note', data: { via: 'compose' } }] });
      expect((await c.query({ type: 'custom.note' })).events.map((e) => e.id)).toEqual([r.events[0]!.id]);
      await c.close();

      const stop = await run('stop');
      expect(stop.code, stop.stderr).toBe(0);
      expect(await inspect<number>(id, '.State.ExitCode')).toBe(0);
    });
  });

  it('leaves the workspace on the host byte-for-byte unchanged', () => {
    expect(treeDigest(workspace)).toEqual(before);
  });
});
