/**
 * Which engines the extension tries, in which order, and how it connects to each: what decides
 * whether "Start Bridge" finds the user's Docker or Podman. The docker context is read from a real
 * DOCKER_CONFIG directory, written by hand and, where the docker CLI is installed, by the CLI itself.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  currentContextEndpoint,
  dockerodeOptions,
  engineCandidates,
  type CandidateInput,
} from '../../../extension/engine/candidates.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lh-ext-cand-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A docker config dir as the CLI lays it out: config.json, and a context's meta under sha256(name). */
function dockerConfig(current: string | undefined, contexts: Record<string, unknown> = {}): string {
  const dir = tempDir();
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify(current === undefined ? {} : { currentContext: current }),
  );
  for (const [name, meta] of Object.entries(contexts)) {
    const id = createHash('sha256').update(name).digest('hex');
    const metaDir = path.join(dir, 'contexts', 'meta', id);
    fs.mkdirSync(metaDir, { recursive: true });
    fs.writeFileSync(path.join(metaDir, 'meta.json'), JSON.stringify(meta));
  }
  return dir;
}

const contextMeta = (name: string, host: string) => ({
  Name: name,
  Metadata: {},
  Endpoints: { docker: { Host: host, SkipTLSVerify: false } },
});

const linux = (over: Partial<CandidateInput> = {}): CandidateInput => ({
  setting: undefined,
  env: {},
  platform: 'linux',
  homeDir: tempDir(),
  ...over,
});

describe('engineCandidates', () => {
  it('tries the setting, DOCKER_HOST, the docker context, the default socket, then Podman rootful and rootless', () => {
    const config = dockerConfig('remote', { remote: contextMeta('remote', 'ssh://me@build-box') });
    const list = engineCandidates(
      linux({
        setting: 'tcp://127.0.0.1:2375',
        env: {
          DOCKER_HOST: 'unix:///tmp/other.sock',
          DOCKER_CONFIG: config,
          XDG_RUNTIME_DIR: '/run/user/1234',
        },
      }),
    );
    expect(list).toEqual([
      { source: 'setting lighthouse.dockerHost', endpoint: 'tcp://127.0.0.1:2375' },
      { source: 'DOCKER_HOST', endpoint: 'unix:///tmp/other.sock' },
      { source: 'docker context', endpoint: 'ssh://me@build-box' },
      { source: 'default Docker socket', endpoint: 'unix:///var/run/docker.sock' },
      { source: 'Podman (rootful)', endpoint: 'unix:///run/podman/podman.sock' },
      { source: 'Podman (rootless)', endpoint: 'unix:///run/user/1234/podman/podman.sock' },
    ]);
  });

  it('keeps the sources with nothing to try, each saying why', () => {
    const home = tempDir();
    const list = engineCandidates({ setting: '   ', env: {}, platform: 'linux', homeDir: home });
    const skipped = Object.fromEntries(list.filter((c) => !c.endpoint).map((c) => [c.source, c.skipped]));
    expect(skipped).toEqual({
      'setting lighthouse.dockerHost': 'not set',
      DOCKER_HOST: 'not set',
      'docker context': `no ${path.join(home, '.docker', 'config.json')}`,
      'Podman (rootless)': 'XDG_RUNTIME_DIR is not set',
    });
    // Every source appears once, in order, tried or not: "nothing answered" lists them all.
    expect(list.map((c) => c.source)).toEqual([
      'setting lighthouse.dockerHost',
      'DOCKER_HOST',
      'docker context',
      'default Docker socket',
      'Podman (rootful)',
      'Podman (rootless)',
    ]);
  });

  it('trims the setting', () => {
    const [first] = engineCandidates(linux({ setting: '  unix:///tmp/x.sock \n' }));
    expect(first).toEqual({ source: 'setting lighthouse.dockerHost', endpoint: 'unix:///tmp/x.sock' });
  });

  it('tries an endpoint once, under the first source that names it', () => {
    const list = engineCandidates(
      linux({ setting: 'unix:///var/run/docker.sock', env: { DOCKER_HOST: 'unix:///var/run/docker.sock' } }),
    );
    expect(list.filter((c) => c.endpoint === 'unix:///var/run/docker.sock')).toEqual([
      { source: 'setting lighthouse.dockerHost', endpoint: 'unix:///var/run/docker.sock' },
    ]);
  });

  it('reads the docker config under the home directory when DOCKER_CONFIG is not set', () => {
    const home = tempDir();
    const config = dockerConfig('colima', {
      colima: contextMeta('colima', 'unix:///home/me/.colima/docker.sock'),
    });
    fs.renameSync(config, path.join(home, '.docker'));
    const ctx = engineCandidates(linux({ homeDir: home })).find((c) => c.source === 'docker context');
    expect(ctx).toEqual({ source: 'docker context', endpoint: 'unix:///home/me/.colima/docker.sock' });
  });

  it('on macOS also tries Docker Desktop’s per-user socket', () => {
    const home = tempDir();
    const sockets = engineCandidates({ setting: undefined, env: {}, platform: 'darwin', homeDir: home })
      .filter((c) => c.source === 'default Docker socket')
      .map((c) => c.endpoint);
    expect(sockets).toEqual([
      'unix:///var/run/docker.sock',
      `unix://${path.join(home, '.docker', 'run', 'docker.sock')}`,
    ]);
  });

  it('on Windows tries the named pipes and says why rootless Podman is not tried', () => {
    const list = engineCandidates({ setting: undefined, env: {}, platform: 'win32', homeDir: tempDir() });
    expect(list.slice(3)).toEqual([
      { source: 'default Docker socket', endpoint: 'npipe:////./pipe/docker_engine' },
      { source: 'Podman (rootful)', endpoint: 'npipe:////./pipe/podman-machine-default' },
      { source: 'Podman (rootless)', endpoint: '', skipped: 'not on Windows' },
    ]);
  });

  it('takes stand-in socket paths for the well-known ones', () => {
    const list = engineCandidates(
      linux({ sockets: { docker: ['/tmp/a.sock', '/tmp/b.sock'], podmanRootful: '/tmp/p.sock' } }),
    );
    expect(list.filter((c) => c.endpoint).map((c) => [c.source, c.endpoint])).toEqual([
      ['default Docker socket', 'unix:///tmp/a.sock'],
      ['default Docker socket', 'unix:///tmp/b.sock'],
      ['Podman (rootful)', 'unix:///tmp/p.sock'],
    ]);
  });
});

describe('currentContextEndpoint', () => {
  it('says the default context is tried with the default socket', () => {
    const config = dockerConfig('default');
    expect(currentContextEndpoint({ DOCKER_CONFIG: config }, tempDir())).toEqual({
      endpoint: undefined,
      why: 'the default context (tried below)',
    });
    expect(currentContextEndpoint({ DOCKER_CONFIG: dockerConfig(undefined) }, tempDir()).why).toBe(
      'the default context (tried below)',
    );
  });

  it('prefers DOCKER_CONTEXT to config.json', () => {
    const config = dockerConfig('a', {
      a: contextMeta('a', 'tcp://127.0.0.1:1111'),
      b: contextMeta('b', 'tcp://127.0.0.1:2222'),
    });
    expect(currentContextEndpoint({ DOCKER_CONFIG: config }, tempDir()).endpoint).toBe(
      'tcp://127.0.0.1:1111',
    );
    expect(currentContextEndpoint({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'b' }, tempDir()).endpoint).toBe(
      'tcp://127.0.0.1:2222',
    );
  });

  it('explains a context without metadata, one without a docker endpoint, and a broken config.json', () => {
    const config = dockerConfig('gone', { bare: { Name: 'bare', Metadata: {}, Endpoints: {} } });
    const id = createHash('sha256').update('gone').digest('hex');
    expect(currentContextEndpoint({ DOCKER_CONFIG: config }, tempDir())).toEqual({
      endpoint: undefined,
      why: `context "gone" has no metadata at ${path.join(config, 'contexts', 'meta', id, 'meta.json')}`,
    });
    expect(currentContextEndpoint({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'bare' }, tempDir())).toEqual({
      endpoint: undefined,
      why: 'context "bare" has no docker endpoint',
    });
    fs.writeFileSync(path.join(config, 'config.json'), '{ not json');
    expect(currentContextEndpoint({ DOCKER_CONFIG: config }, tempDir()).why).toBe(
      `no ${path.join(config, 'config.json')}`,
    );
  });

  const cli = (() => {
    try {
      execFileSync('docker', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!cli) console.warn('docker context test SKIPPED: there is no docker CLI on this machine');

  it.skipIf(!cli)('reads the context the docker CLI itself created and selected', () => {
    const config = tempDir();
    const env = { ...process.env, DOCKER_CONFIG: config };
    const run = (args: string[]) => execFileSync('docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    run(['context', 'create', 'lh-remote', '--docker', 'host=tcp://127.0.0.1:23750']);
    run(['context', 'use', 'lh-remote']);
    const list = engineCandidates({ setting: undefined, env: { DOCKER_CONFIG: config }, platform: 'linux' });
    expect(list.find((c) => c.source === 'docker context')).toEqual({
      source: 'docker context',
      endpoint: 'tcp://127.0.0.1:23750',
    });
  });
});

describe('dockerodeOptions', () => {
  it('connects to unix sockets by path', () => {
    expect(dockerodeOptions('unix:///var/run/docker.sock')).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(dockerodeOptions('/run/podman/podman.sock')).toEqual({ socketPath: '/run/podman/podman.sock' });
  });

  it('turns an npipe address into the Windows pipe path Node opens (\\\\.\\pipe\\name)', () => {
    expect(dockerodeOptions('npipe:////./pipe/docker_engine')).toEqual({
      socketPath: '\\\\.\\pipe\\docker_engine',
    });
    expect(dockerodeOptions('npipe:////./pipe/podman-machine-default').socketPath).toBe(
      '\\\\.\\pipe\\podman-machine-default',
    );
  });

  it('speaks plain HTTP to tcp:// and http://, with Docker’s port 2375 by default', () => {
    expect(dockerodeOptions('tcp://127.0.0.1:12375')).toEqual({
      host: '127.0.0.1',
      port: 12375,
      protocol: 'http',
    });
    expect(dockerodeOptions('tcp://localhost')).toEqual({ host: 'localhost', port: 2375, protocol: 'http' });
    expect(dockerodeOptions('http://127.0.0.1:8080')).toEqual({
      host: '127.0.0.1',
      port: 8080,
      protocol: 'http',
    });
  });

  it('speaks TLS to https://, with port 2376 by default', () => {
    expect(dockerodeOptions('https://docker.example')).toEqual({
      host: 'docker.example',
      port: 2376,
      protocol: 'https',
    });
  });

  it('goes through ssh:// with the user and port given, else port 22', () => {
    expect(dockerodeOptions('ssh://deploy@build-box:2222')).toEqual({
      host: 'build-box',
      port: 2222,
      protocol: 'ssh',
      username: 'deploy',
    });
    expect(dockerodeOptions('ssh://build-box')).toEqual({ host: 'build-box', port: 22, protocol: 'ssh' });
    expect(dockerodeOptions('ssh://me%40corp@build-box').username).toBe('me@corp');
  });

  it('refuses an unknown scheme and a non-address, saying what is expected', () => {
    expect(() => dockerodeOptions('ftp://127.0.0.1')).toThrow(
      '"ftp://127.0.0.1": unsupported scheme ftp: (use unix://, tcp://, https:// or ssh://)',
    );
    expect(() => dockerodeOptions('docker.sock')).toThrow(
      '"docker.sock" is not an engine address (expected unix:///path, tcp://host:port or ssh://host)',
    );
  });
});
