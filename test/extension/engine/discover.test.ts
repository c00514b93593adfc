/**
 * Finding the container engine over real sockets: what the user reads when nothing answers (a
 * stopped engine, a missing one, a hung one, something that is not an engine), and that the engine
 * of this machine is found through each way of naming it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  discoverEngine,
  ENGINE_HELP,
  EngineNotFoundError,
  type DiscoverOptions,
} from '../../../extension/engine/discover.js';
import { dockerOk, engineUnavailable } from '../../helpers/docker.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lh-ext-disc-'));
const servers: net.Server[] = [];
const connections = new Set<net.Socket>();
afterAll(async () => {
  for (const c of connections) c.destroy();
  for (const s of servers) await new Promise((r) => s.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A socket file nobody listens on, as a crashed or stopped engine leaves it. */
function deadSocket(name: string): string {
  const p = path.join(dir, name);
  // A process that binds the socket and is killed: the file stays, with no listener behind it.
  const r = spawnSync(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(p)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  expect(r.signal).toBe('SIGKILL');
  expect(fs.statSync(p).isSocket()).toBe(true);
  return p;
}

async function listen(server: net.Server, at: string | { port: number; host: string }): Promise<void> {
  servers.push(server);
  // Clients keep connections alive: closing the server waits for them, so they are ended first.
  server.on('connection', (c: net.Socket) => {
    connections.add(c);
    c.on('close', () => connections.delete(c));
  });
  await new Promise<void>((resolve) => server.listen(at, resolve));
}

/** No engine anywhere: every well-known place is replaced by a path in the temp dir. */
function nowhere(over: Partial<DiscoverOptions> = {}): DiscoverOptions {
  return {
    setting: undefined,
    env: { DOCKER_CONFIG: path.join(dir, 'no-docker-config'), XDG_RUNTIME_DIR: path.join(dir, 'xdg') },
    platform: 'linux',
    homeDir: dir,
    sockets: { docker: [path.join(dir, 'no-docker.sock')], podmanRootful: path.join(dir, 'no-podman.sock') },
    timeoutMs: 1000,
    ...over,
  };
}

/** The attempt for the setting (the first candidate) when nothing answers. */
async function settingError(setting: string, timeoutMs = 1000): Promise<string> {
  const e = await discoverEngine(nowhere({ setting, timeoutMs })).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(EngineNotFoundError);
  const first = (e as EngineNotFoundError).attempts[0]!;
  expect(first.candidate.source).toBe('setting lighthouse.dockerHost');
  return first.error;
}

describe('discoverEngine when no engine answers', () => {
  it('says a socket file with nothing behind it is a stopped engine', async () => {
    expect(await settingError(`unix://${deadSocket('stopped.sock')}`)).toBe(
      'connection refused (the engine is stopped)',
    );
  });

  it('says a missing socket is no socket at all', async () => {
    expect(await settingError(`unix://${path.join(dir, 'missing.sock')}`)).toBe(
      'no such socket (is the engine installed and running?)',
    );
  });

  it('says a closed loopback port is refused', async () => {
    const probe = net.createServer();
    await listen(probe, { port: 0, host: '127.0.0.1' });
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((r) => probe.close(r));
    servers.splice(servers.indexOf(probe), 1);
    expect(await settingError(`tcp://127.0.0.1:${port}`)).toBe('connection refused (the engine is stopped)');
  });

  it('says an engine that accepts but never answers gave no answer in time', async () => {
    const hung = path.join(dir, 'hung.sock');
    await listen(net.createServer(), hung);
    const t0 = Date.now();
    expect(await settingError(`unix://${hung}`, 300)).toBe('no answer in time');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('says what answered when it is not an engine', async () => {
    const notDocker = path.join(dir, 'not-docker.sock');
    const server = http.createServer((_req, res) => {
      res.statusCode = 404;
      res.end('page not found');
    });
    await listen(server, notDocker);
    expect(await settingError(`unix://${notDocker}`)).toBe('answered HTTP 404');
  });

  it('passes on a setting that is not an address, saying so', async () => {
    expect(await settingError('ftp://127.0.0.1')).toBe(
      '"ftp://127.0.0.1": unsupported scheme ftp: (use unix://, tcp://, https:// or ssh://)',
    );
  });

  it('lists every source tried, why each failed, and how to fix it', async () => {
    const stopped = deadSocket('stopped-setting.sock');
    const e = await discoverEngine(nowhere({ setting: `unix://${stopped}` })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EngineNotFoundError);
    expect((e as Error).name).toBe('EngineNotFoundError');
    expect((e as Error).message).toBe(
      [
        'No container engine answered. Tried:',
        `- setting lighthouse.dockerHost (unix://${stopped}): connection refused (the engine is stopped)`,
        '- DOCKER_HOST: not set',
        `- docker context: no ${path.join(dir, 'no-docker-config', 'config.json')}`,
        `- default Docker socket (unix://${path.join(dir, 'no-docker.sock')}): no such socket (is the engine installed and running?)`,
        `- Podman (rootful) (unix://${path.join(dir, 'no-podman.sock')}): no such socket (is the engine installed and running?)`,
        `- Podman (rootless) (unix://${path.join(dir, 'xdg', 'podman', 'podman.sock')}): no such socket (is the engine installed and running?)`,
        ENGINE_HELP,
      ].join('\n'),
    );
    expect((e as EngineNotFoundError).attempts).toHaveLength(6);
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(discoverEngine(nowhere({ signal: ac.signal }))).rejects.toThrow(/abort/i);
  });
});

const unavailable = engineUnavailable();
if (unavailable) console.warn(`engine discovery tests against the real engine SKIPPED: ${unavailable}`);

describe.skipIf(unavailable !== null)('discoverEngine with the engine of this machine', () => {
  // The address `docker info` just used: DOCKER_HOST when set, else the default socket.
  const engine = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  let serverVersion: string;
  beforeAll(async () => {
    serverVersion = await dockerOk(['version', '--format', '{{.Server.Version}}']);
  });

  async function expectFound(opts: DiscoverOptions, source: string) {
    const found = await discoverEngine(opts);
    expect(found.candidate.source).toBe(source);
    expect(found.version).toMatch(/Engine/);
    expect(found.version.endsWith(` ${serverVersion}`)).toBe(true);
    // The client handed back works (and is not the probe's short-timeout one).
    expect((await found.docker.info()).ServerVersion).toBe(serverVersion);
    return found;
  }

  it('finds it through the setting', async () => {
    const found = await expectFound(nowhere({ setting: engine }), 'setting lighthouse.dockerHost');
    expect(found.candidate.endpoint).toBe(engine);
  });

  it('finds it through DOCKER_HOST', async () => {
    const base = nowhere();
    await expectFound({ ...base, env: { ...base.env, DOCKER_HOST: engine } }, 'DOCKER_HOST');
  });

  it('goes on past a stopped engine to the next source', async () => {
    const base = nowhere({ setting: `unix://${deadSocket('stopped-first.sock')}` });
    await expectFound({ ...base, env: { ...base.env, DOCKER_HOST: engine } }, 'DOCKER_HOST');
  });

  it('finds it through the current docker context', async () => {
    const config = path.join(dir, 'docker-config');
    const id = createHash('sha256').update('lh-test').digest('hex');
    fs.mkdirSync(path.join(config, 'contexts', 'meta', id), { recursive: true });
    fs.writeFileSync(path.join(config, 'config.json'), JSON.stringify({ currentContext: 'lh-test' }));
    fs.writeFileSync(
      path.join(config, 'contexts', 'meta', id, 'meta.json'),
      JSON.stringify({ Name: 'lh-test', Endpoints: { docker: { Host: engine } } }),
    );
    const base = nowhere();
    await expectFound({ ...base, env: { ...base.env, DOCKER_CONFIG: config } }, 'docker context');
  });

  it.skipIf(!engine.startsWith('unix://'))('finds it over tcp:// on loopback', async () => {
    // The engine listens on a socket only: a loopback port relays to it, as `-H tcp://` would.
    const proxy = net.createServer((c) => {
      const u = net.connect(engine.slice('unix://'.length));
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
      c.pipe(u).pipe(c);
    });
    await listen(proxy, { port: 0, host: '127.0.0.1' });
    const { port } = proxy.address() as net.AddressInfo;
    await expectFound(nowhere({ setting: `tcp://127.0.0.1:${port}` }), 'setting lighthouse.dockerHost');
  });
});
