/**
 * The extension in a real VS Code (code-server + headless Chromium) with a real bridge container:
 * the mocha suite inside the extension host, then the same flow driven through the UI.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseImage, engineUnavailable } from '../helpers/docker.js';
import {
  e2eTools,
  freePort,
  launchBrowser,
  ROOT,
  runExtensionTests,
  startCodeServer,
  type E2eTools,
} from './code-server.js';

const why = engineUnavailable();
const found = why ? undefined : e2eTools();
const skip = why ?? (found && 'unavailable' in found ? found.unavailable : undefined);
if (skip) console.warn(`skipping the VS Code end-to-end tests: ${skip}`);
const tools = found && 'tools' in found ? found.tools : (undefined as unknown as E2eTools);

export function makeWorkspace(prefix: string): string {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  // The bridge runs as uid 1000 in its container: the project must be readable by others, as
  // projects usually are (mkdtemp makes 0700).
  fs.chmodSync(ws, 0o755);
  fs.writeFileSync(path.join(ws, 'README.txt'), 'the original readme\n');
  fs.writeFileSync(
    path.join(ws, '.mcp.json'),
    JSON.stringify({ mcpServers: { other: { command: 'other-server', args: [] } } }, null, 2),
  );
  return ws;
}

/** Removes the bridge container and volume a test workspace got. */
export function removeBridgeOf(workspace: string): void {
  const ids = execFileSync('docker', [
    'ps',
    '-aq',
    '--filter',
    `label=dev.lighthouse.workspace-path=${workspace}`,
  ])
    .toString()
    .trim()
    .split('\n')
    .filter(Boolean);
  if (ids.length && process.env.LIGHTHOUSE_E2E_BRIDGE_LOGS) {
    for (const id of ids)
      console.log(
        execFileSync('docker', ['logs', '--tail', '80', id], {
          stdio: ['ignore', 'pipe', 'pipe'],
        }).toString(),
      );
  }
  if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  const vols = execFileSync('docker', ['volume', 'ls', '-q'])
    .toString()
    .split('\n')
    .filter((v) => v.startsWith('lighthouse-data-'));
  for (const v of vols) {
    try {
      execFileSync('docker', ['volume', 'rm', v], { stdio: 'ignore' });
    } catch {
      // in use by another test's container
    }
  }
}

describe.skipIf(!!skip)('the extension in a real VS Code', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser(tools);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  it(
    'passes the mocha suite inside the extension host (start, shadow write, apply, review, stop)',
    async () => {
      const ws = makeWorkspace('lh-e2e-host-');
      const cs = await startCodeServer({
        tools,
        workspace: ws,
        settings: { 'lighthouse.baseImage': baseImage(), 'lighthouse.port': await freePort() },
      });
      const page = await browser.newPage();
      try {
        const r = await runExtensionTests(
          page,
          cs,
          ws,
          path.join(ROOT, 'dist', 'test', 'e2e-suite.js'),
          15 * 60_000,
        );
        const out = r.output.join('\n');
        if (r.code !== 0) console.log(`${out}\n--- code-server ---\n${cs.log()}`);
        expect(out).toMatch(/passing/);
        expect(out).not.toMatch(/failing/);
        expect(r.code).toBe(0);
      } finally {
        await page.close();
        await cs.stop();
        removeBridgeOf(ws);
      }
    },
    20 * 60_000,
  );
});
