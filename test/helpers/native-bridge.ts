import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BridgeClient, deriveAdminKey } from '../../bridge-image/protocol/index.js';
import { BRIDGE_JS } from './bridge-process.js';
import { exitOf } from './listening.js';

export interface NativeBridge {
  url: string;
  /** Where the FUSE view is mounted (outside the project), or null when it is off. */
  view: string | null;
  project: string;
  secret: Buffer;
  proc: ChildProcess;
  out: () => string;
  admin(): BridgeClient;
  stop(): Promise<number | string>;
}

/**
 * `npm start` in `project`: the bridge with --native (its secret and keys under .lighthouse/, the
 * FUSE view at its default mount point outside the project) on a free port.
 */
export async function startNativeBridge(project: string, args: string[] = []): Promise<NativeBridge> {
  const proc = spawn(process.execPath, [BRIDGE_JS, '--native', '--port', '0', ...args], {
    cwd: project,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = exitOf(proc);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the native bridge did not start:\n${out}`)), 20_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Stop with Ctrl-C')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then((code) => reject(new Error(`the native bridge exited (${code}):\n${out}`)));
  });
  const url = /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
  const view = /FUSE view: {6}(\/\S+) \(current\//.exec(out)?.[1] ?? null;
  const secret = Buffer.from(
    fs.readFileSync(path.join(project, '.lighthouse', 'secret'), 'utf8').trim(),
    'hex',
  );
  const clients: BridgeClient[] = [];
  return {
    url,
    view,
    project,
    secret,
    proc,
    out: () => out,
    admin() {
      const c = new BridgeClient({
        baseUrl: url,
        agentId: 'admin',
        role: 'admin',
        key: deriveAdminKey(secret),
      });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) await c.close().catch(() => undefined);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}
