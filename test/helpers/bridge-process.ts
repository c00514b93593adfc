import { afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  BridgeClient,
  deriveAdminKey,
  deriveAgentKey,
  type BridgeClientOptions,
  type Role,
} from '../../bridge-image/protocol/index.js';
import { exitOf, listeningUrl } from './listening.js';
import { tempDir } from './temp-dirs.js';

export const BRIDGE_JS = path.resolve(__dirname, '../../bridge-image/dist/bridge.js');
export const WRITER_JS = path.resolve(__dirname, '../../bridge-image/dist/store-writer.js');

export { tempDir };

export interface BridgeProcess {
  url: string;
  port: number;
  dataDir: string;
  workspace: string;
  secret: Buffer;
  secretFile: string;
  proc: ChildProcess;
  stderr: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  admin(opts?: Partial<BridgeClientOptions>): BridgeClient;
  agent(id: string, role?: Role, opts?: Partial<BridgeClientOptions>): BridgeClient;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface StartOptions {
  dataDir?: string;
  workspace?: string;
  secret?: Buffer;
  args?: string[];
  env?: Record<string, string>;
  /** Mount the FUSE view here; without it the bridge runs with --no-fuse. */
  fuseMount?: string;
  /** Run the bridge as this user (and group), as the container does; its files are handed over to it. */
  uid?: number;
  /** Agents whose key files lie beside the secret (keys/<id>.key) before the bridge starts. */
  keys?: string[];
}

/** Starts the built bridge in its own process on port 0 and waits for it to listen. */
export async function startBridge(opts: StartOptions = {}): Promise<BridgeProcess> {
  const dir = tempDir();
  const dataDir = opts.dataDir ?? path.join(dir, 'data');
  const workspace = opts.workspace ?? path.join(dir, 'ws');
  fs.mkdirSync(workspace, { recursive: true });
  const secret = opts.secret ?? randomBytes(32);
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, secret.toString('hex'), { mode: 0o600 });
  for (const id of opts.keys ?? []) {
    fs.mkdirSync(path.join(dir, 'keys'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'keys', `${id}.key`), deriveAgentKey(secret, id).toString('hex'), {
      mode: 0o600,
    });
  }
  const logFile = path.join(dir, 'bridge.log');
  const logFd = fs.openSync(logFile, 'a');
  if (opts.uid !== undefined) {
    fs.mkdirSync(dataDir, { recursive: true });
    for (const p of [dir, dataDir, secretFile, logFile]) fs.chownSync(p, opts.uid, opts.uid);
  }
  const proc = spawn(
    process.execPath,
    [
      BRIDGE_JS,
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--workspace',
      workspace,
      '--secret-file',
      secretFile,
      ...(opts.fuseMount ? ['--fuse-mount', opts.fuseMount] : ['--no-fuse']),
      ...(opts.args ?? []),
    ],
    // The log goes to a file, not a pipe: a test blocked in a synchronous call on the FUSE mount
    // could not drain a pipe, and a bridge blocked writing its log could not answer the mount.
    {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'ignore', logFd],
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}),
    },
  );
  fs.closeSync(logFd);
  const err = () => fs.readFileSync(logFile, 'utf8');
  const exited = exitOf(proc);
  const url = await listeningUrl('bridge', err, /"msg":"bridge listening","url":"(http:\/\/[^"]+)"/, exited);
  const clients: BridgeClient[] = [];
  const track = (c: BridgeClient) => (clients.push(c), c);
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    workspace,
    secret,
    secretFile,
    proc,
    stderr: err,
    exited,
    admin: (o = {}) =>
      track(
        new BridgeClient({
          baseUrl: url,
          agentId: 'admin',
          role: 'admin',
          key: deriveAdminKey(secret),
          ...o,
        }),
      ),
    agent: (id, role = 'agent', o = {}) =>
      track(new BridgeClient({ baseUrl: url, agentId: id, role, key: deriveAgentKey(secret, id), ...o })),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      for (const c of clients) void c.close().catch(() => undefined);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/**
 * A `start` for tests that kill bridges on purpose: every bridge it started is SIGKILLed after each
 * test (one that already died is left as it is). Call it at the top of a test file.
 */
export function bridgesKilledAfterEach(): (opts?: StartOptions) => Promise<BridgeProcess> {
  const running: BridgeProcess[] = [];
  afterEach(async () => {
    for (const b of running.splice(0)) await b.stop('SIGKILL');
  });
  return async (opts = {}) => {
    const b = await startBridge(opts);
    running.push(b);
    return b;
  };
}
