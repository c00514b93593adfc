/**
 * A real VS Code for the end-to-end tests (see ../shared/E2E.md): code-server (Node 24) serving the
 * workbench, headless Chromium (playwright-core) as its window.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { tempDir } from '../helpers/temp-dirs.js';

export const ROOT = path.resolve(__dirname, '..', '..');

export interface E2eTools {
  /** The cache folder setup.sh installs into. */
  cache: string;
  node24: string;
  codeServer: string;
  chromium: string;
}

/** Installs (or finds in the cache) what the tests need; null with the reason when it cannot. */
export function e2eTools(): { tools: E2eTools } | { unavailable: string } {
  let cache: string;
  try {
    cache = execFileSync('bash', [path.join(ROOT, 'test', 'e2e', 'setup.sh')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 15 * 60_000,
    })
      .toString()
      .trim()
      .split('\n')
      .pop()!;
  } catch (e) {
    return { unavailable: `test/e2e/setup.sh failed: ${(e as Error).message}` };
  }
  const node24 = fs.readdirSync(cache).find((d) => d.startsWith('node-24'));
  const cs = fs.readdirSync(cache).find((d) => d.startsWith('code-server-'));
  const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
  if (!node24 || !cs || !chromiumPath)
    return { unavailable: `setup.sh left no Node 24, code-server or Chromium in ${cache}` };
  return {
    tools: {
      cache,
      node24: path.join(cache, node24, 'bin'),
      codeServer: path.join(cache, cs, 'bin', 'code-server'),
      chromium: chromiumPath,
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface CodeServer {
  url: string;
  port: number;
  userDataDir: string;
  log(): string;
  stop(): Promise<void>;
}

export async function startCodeServer(opts: {
  tools: E2eTools;
  workspace: string;
  settings: Record<string, unknown>;
  env?: Record<string, string>;
  /** A command that code-server runs under (its arguments follow), e.g. to change what it can see. */
  wrap?: string[];
}): Promise<CodeServer> {
  const port = await freePort();
  const base = tempDir('lh-code-server-');
  const userDataDir = path.join(base, 'user');
  const extensionsDir = path.join(base, 'extensions');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'security.workspace.trust.enabled': false,
      'extensions.autoUpdate': false,
      'telemetry.telemetryLevel': 'off',
      ...opts.settings,
    }),
  );
  let log = '';
  const [command, ...prefix] = [...(opts.wrap ?? []), opts.tools.codeServer];
  const child: ChildProcess = spawn(
    command!,
    [
      ...prefix,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      '--vscode-option',
      'enable-smoke-test-driver',
      opts.workspace,
    ],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env, PATH: `${opts.tools.node24}:${process.env.PATH ?? ''}` },
    },
  );
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) throw new Error(`code-server exited ${child.exitCode}:\n${log}`);
    if (Date.now() > deadline) throw new Error(`code-server did not answer /healthz:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    port,
    userDataDir,
    log: () => log,
    stop: async () => {
      // Its children (extension host, file watcher) live in its process group.
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    },
  };
}

export async function launchBrowser(tools: E2eTools): Promise<Browser> {
  return chromium.launch({
    executablePath: tools.chromium,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The workbench URL that loads the extension from its folder, with a test suite to run or none. */
export function workbenchUrl(cs: CodeServer, workspace: string, testsPath?: string): string {
  const remote = (p: string) => `vscode-remote://127.0.0.1:${cs.port}${p}`;
  const payload: [string, string][] = [['extensionDevelopmentPath', remote(ROOT)]];
  if (testsPath) payload.push(['extensionTestsPath', remote(testsPath)]);
  return `${cs.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** Runs the mocha suite inside the extension host; resolves with its exit code and output. */
export async function runExtensionTests(
  page: Page,
  cs: CodeServer,
  workspace: string,
  testsPath: string,
  timeoutMs: number,
): Promise<{ code: number; output: string[] }> {
  const output: string[] = [];
  page.on('console', (m) => output.push(m.text()));
  let exit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  // The workbench calls this with the suite's exit code when it has run.
  await page.exposeFunction('codeAutomationExit', (code: number) => exit(code));
  await page.goto(workbenchUrl(cs, workspace, testsPath));
  const timeout = new Promise<number>((resolve) => setTimeout(() => resolve(-1), timeoutMs));
  const code = await Promise.race([exited, timeout]);
  return { code, output };
}
