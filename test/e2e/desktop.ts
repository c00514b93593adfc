/**
 * VS Code desktop through @vscode/test-electron: the runner wherever VS Code can be downloaded and
 * shown (a display, or Xvfb). Elsewhere (these machines cannot reach update.code.visualstudio.com)
 * the suite runs in code-server instead; the test says which and why.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';
import { ROOT } from './code-server.js';
import { tempDir } from '../helpers/temp-dirs.js';

export type DesktopVsCode = { executable: string; xvfb: boolean } | { unavailable: string };

/** VS Code desktop, downloaded once into the CI cache, or why it cannot run here. */
export async function desktopVsCode(cacheDir: string): Promise<DesktopVsCode> {
  if (process.env.LIGHTHOUSE_E2E_RUNNER === 'code-server')
    return { unavailable: 'LIGHTHOUSE_E2E_RUNNER=code-server' };
  let executable: string;
  try {
    executable = await downloadAndUnzipVSCode({
      version: process.env.LIGHTHOUSE_E2E_VSCODE_VERSION ?? 'stable',
      cachePath: path.join(cacheDir, 'vscode-desktop'),
      timeout: 15_000,
    });
  } catch (e) {
    return { unavailable: `VS Code desktop could not be downloaded: ${(e as Error).message.split('\n')[0]}` };
  }
  const display = !!process.env.DISPLAY || process.platform !== 'linux';
  const xvfb = !display && spawnSync('sh', ['-c', 'command -v Xvfb'], { stdio: 'ignore' }).status === 0;
  if (!display && !xvfb) return { unavailable: 'no display and no Xvfb (apt install xvfb)' };
  return { executable, xvfb };
}

/** Runs a suite bundle (exports run()) in VS Code desktop on `workspace`; throws when it fails. */
export async function runInDesktop(opts: {
  vscode: { executable: string; xvfb: boolean };
  workspace: string;
  testsPath: string;
  settings: Record<string, unknown>;
  env?: Record<string, string>;
}): Promise<void> {
  const userDataDir = tempDir('lh-vscode-');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ 'security.workspace.trust.enabled': false, ...opts.settings }),
  );
  const launchArgs = [
    opts.workspace,
    '--disable-extensions',
    '--disable-workspace-trust',
    '--no-sandbox',
    `--user-data-dir=${userDataDir}`,
  ];
  // Without a display, a virtual one for VS Code's Electron.
  const xvfb = opts.vscode.xvfb
    ? spawn('Xvfb', [':97', '-screen', '0', '1400x900x24'], { stdio: 'ignore' })
    : undefined;
  try {
    await runTests({
      vscodeExecutablePath: opts.vscode.executable,
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: opts.testsPath,
      launchArgs,
      extensionTestsEnv: { ...opts.env, ...(xvfb ? { DISPLAY: ':97' } : {}) },
    });
  } finally {
    xvfb?.kill();
  }
}
