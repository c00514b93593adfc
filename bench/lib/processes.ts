import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BridgeClient, deriveAgentKey } from '../../bridge-image/protocol/index.js';
import { tempDir as makeTempDir } from '../../test/helpers/temp-dirs.js';
import type { LoadConfig, LoadResult } from './loadgen.js';

/** The repository root: bench bundles run from dist/bench/. */
export const ROOT = path.resolve(__dirname, '..', '..');

export interface Server {
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export const tempDir = (): string => makeTempDir('lh-bench-');

function waitFor(proc: ChildProcess, stream: 'stdout' | 'stderr', re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${re}:\n${text}`)), 20_000);
    proc[stream]!.on('data', (d: Buffer) => {
      text += d.toString();
      const m = re.exec(text);
      if (m) {
        clearTimeout(t);
        resolve(m);
      }
    });
    proc.on('exit', (c) => reject(new Error(`exited ${c}:\n${text}`)));
  });
}

function stopper(proc: ChildProcess) {
  return () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
}

/** A reference server (see baseline-server.ts); `secretHex` is what the floor checks signatures with. */
export async function startBaseline(mode: 'bare' | 'fsync' | 'floor', secretHex = ''): Promise<Server> {
  const file = path.join(tempDir(), 'events.log');
  const proc = spawn(
    process.execPath,
    [path.join(ROOT, 'dist/bench/baseline-server.js'), mode, file, secretHex],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const m = await waitFor(proc, 'stdout', /listening (\d+)/);
  return { port: Number(m[1]), proc, stop: stopper(proc) };
}

export async function startBridgeProcess(
  opts: { workspace?: string; fuseMount?: string } = {},
): Promise<Server & { secret: Buffer }> {
  const dir = tempDir();
  const secret = randomBytes(32);
  fs.writeFileSync(path.join(dir, 'secret'), secret.toString('hex'), { mode: 0o600 });
  const proc = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bridge-image/dist/bridge.js'),
      '--port',
      '0',
      '--data-dir',
      path.join(dir, 'data'),
      '--workspace',
      opts.workspace ?? dir,
      '--secret-file',
      path.join(dir, 'secret'),
      '--log-level',
      'warn',
      // Only the shadow suite mounts (where it says); elsewhere a mount would be a side effect.
      ...(opts.fuseMount ? ['--fuse-mount', opts.fuseMount] : ['--no-fuse']),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  // warn level hides the "listening" line, so poll /health on the port from /proc's listening sockets
  const port = await new Promise<number>((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      const p = listeningPort(proc.pid!);
      if (p) return resolve(p);
      if (Date.now() - t0 > 20_000 || proc.exitCode !== null)
        return reject(new Error(`bridge did not start:\n${log}`));
      setTimeout(tick, 50);
    };
    tick();
  });
  return { port, proc, secret, stop: stopper(proc) };
}

/** The TCP port a process listens on, read from /proc (Linux). */
function listeningPort(pid: number): number | undefined {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      fs
        .readdirSync(`/proc/${pid}/fd`)
        .map((f) => {
          try {
            return fs.readlinkSync(`/proc/${pid}/fd/${f}`);
          } catch {
            return '';
          }
        })
        .filter((l) => l.startsWith('socket:['))
        .map((l) => l.slice(8, -1)),
    );
  } catch {
    return undefined;
  }
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9]!)) return parseInt(f[1]!.split(':')[1]!, 16);
    }
  }
  return undefined;
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

export function runLoad(cfg: LoadConfig): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [path.join(ROOT, 'dist/bench/loadgen.js'), JSON.stringify(cfg)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`loadgen exited ${code}`)),
    );
  });
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The agent "bench" of a bridge started with a FUSE mount at `mnt`, and its shadow in the view, once
 * `file` (a workspace file) shows there.
 */
export async function benchShadow(
  bridge: Server & { secret: Buffer },
  mnt: string,
  file: string,
): Promise<{ agent: BridgeClient; shadow: string }> {
  const agent = new BridgeClient({
    baseUrl: `http://127.0.0.1:${bridge.port}`,
    agentId: 'bench',
    key: deriveAgentKey(bridge.secret, 'bench'),
  });
  await agent.registerAgent({ capabilities: [] });
  const shadow = path.join(mnt, 'shadows', 'bench');
  for (let i = 0; i < 50 && !fs.existsSync(path.join(shadow, file)); i++)
    await new Promise((r) => setTimeout(r, 100));
  return { agent, shadow };
}
