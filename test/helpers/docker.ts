/**
 * The docker CLI, driven from tests and the `container` benchmark: is an engine there, which base
 * image to build on, building the bridge image, running it, waiting for it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { extraCaCerts } from '../../extension/engine/extra-ca.js';

export { extraCaCerts };

/** The repository root, from test/helpers/ and from dist/bench/ alike. */
export const ROOT = path.resolve(__dirname, '..', '..');
export const DOCKERFILE = path.join(ROOT, 'bridge-image', 'Dockerfile');
export const COMPOSE_FILE = path.join(ROOT, 'bridge-image', 'compose.yaml');
export const STAND_IN_BASE = 'lighthouse-ci/node:24-bookworm-slim';
export const OFFICIAL_BASE = 'node:24-bookworm-slim';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `docker ...args`; never rejects on a non-zero exit (see `dockerOk`). */
export function docker(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  return runCommand(['docker'], args, opts.env ?? {}, opts.timeoutMs ?? 60_000);
}

/** Runs `docker ...args` and returns its trimmed stdout; rejects with stderr on failure. */
export async function dockerOk(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  const r = await docker(args, opts);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}:\n${r.stderr || r.stdout}`);
  return r.stdout.trim();
}

function dockerSync(args: string[], timeout = 20_000): string | null {
  try {
    return execFileSync('docker', args, { timeout, stdio: ['ignore', 'pipe', 'pipe'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/** Why no engine can be used, or null when `docker info` answers. Synchronous, for `describe.skipIf`. */
export function engineUnavailable(): string | null {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
      timeout: 20_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return null;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') return 'there is no docker CLI on this machine';
    const said = err.stderr?.toString().trim().split('\n').pop();
    return `no Docker engine answers \`docker info\` (${said || err.message}); run ../shared/tools/docker-env.sh`;
  }
}

/** How to run compose here: `docker compose` (v2), else `docker-compose`; null when neither answers. */
export function composeCommand(): string[] | null {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    try {
      execFileSync(cmd[0]!, [...cmd.slice(1), 'version'], {
        timeout: 20_000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return cmd;
    } catch {
      // not this one
    }
  }
  return null;
}

/** Runs `cmd ...args` (e.g. a compose command line from `composeCommand`); never rejects on a non-zero exit. */
export function runCommand(cmd: string[], args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000) {
  return new Promise<Result>((resolve, reject) => {
    const p = spawn(cmd[0]!, [...cmd.slice(1), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** The base image to build on: $LIGHTHOUSE_NODE_IMAGE, else the local stand-in when present, else the official one. */
export function baseImage(): string {
  if (process.env.LIGHTHOUSE_NODE_IMAGE) return process.env.LIGHTHOUSE_NODE_IMAGE;
  return dockerSync(['image', 'inspect', '--format', '{{.Id}}', STAND_IN_BASE])
    ? STAND_IN_BASE
    : OFFICIAL_BASE;
}

/**
 * Builds the bridge image from the repository root (after `npm run build`), as the README says.
 * Layers are cached by the engine, so a build with nothing changed takes seconds.
 */
export async function buildImage(
  tag: string,
  opts: { base?: string; timeoutMs?: number } = {},
): Promise<string> {
  for (const f of ['bridge.js', 'store-writer.js'])
    if (!fs.existsSync(path.join(ROOT, 'bridge-image', 'dist', f)))
      throw new Error(`bridge-image/dist/${f} is missing: run \`npm run build\` before building the image`);
  const args = [
    'build',
    '-f',
    DOCKERFILE,
    '-t',
    tag,
    '--build-arg',
    `NODE_IMAGE=${opts.base ?? baseImage()}`,
  ];
  const ca = extraCaCerts();
  if (ca) args.push('--build-arg', `EXTRA_CA_CERTS=${ca}`);
  args.push(ROOT);
  const r = await docker(args, { timeoutMs: opts.timeoutMs ?? 15 * 60_000 });
  if (r.code !== 0) {
    const log = (r.stdout + r.stderr).split('\n').slice(-40).join('\n');
    throw new Error(`docker build of ${tag} failed (${r.code}):\n${log}`);
  }
  return tag;
}

/** A name unique to this run, for containers and volumes. */
export const uniqueName = (prefix: string) => `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;

/** The host port that a container's 8765/tcp is published on (127.0.0.1 only), read from the engine. */
export async function publishedPort(container: string): Promise<{ hostIp: string; port: number }[]> {
  const out = await dockerOk(['inspect', '--format', '{{json .NetworkSettings.Ports}}', container]);
  const ports = JSON.parse(out) as Record<string, { HostIp: string; HostPort: string }[] | null>;
  return (ports['8765/tcp'] ?? []).map((b) => ({ hostIp: b.HostIp, port: Number(b.HostPort) }));
}

export async function inspect<T = unknown>(container: string, format: string): Promise<T> {
  return JSON.parse(await dockerOk(['inspect', '--format', `{{json ${format}}}`, container])) as T;
}

/** Polls `GET url/ready` until it answers 200, or throws after `timeoutMs`. Returns the body. */
export async function waitReady(url: string, timeoutMs = 20_000, everyMs = 20): Promise<unknown> {
  const t0 = Date.now();
  let last = '';
  for (;;) {
    try {
      const r = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return await r.json();
      last = `${r.status} ${await r.text()}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`${url}/ready did not answer 200 within ${timeoutMs} ms: ${last}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until `docker inspect` says the container's health check passed; returns the ms it took. */
export async function waitHealthy(container: string, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const health = await inspect<{ Status: string; Log?: { Output: string }[] } | null>(
      container,
      '.State.Health',
    );
    if (health?.Status === 'healthy') return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `${container} not healthy within ${timeoutMs} ms: ${JSON.stringify(health?.Status)} ${health?.Log?.at(-1)?.Output ?? ''}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A free TCP port on 127.0.0.1 (for `-p 127.0.0.1:PORT:8765` where the port must be known first). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
