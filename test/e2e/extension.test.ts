/**
 * The extension in a real VS Code (code-server + headless Chromium) with a real bridge container:
 * the mocha suite inside the extension host, then the same flow driven through the UI.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
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
  workbenchUrl,
  type E2eTools,
} from './code-server.js';
import { desktopVsCode, runInDesktop } from './desktop.js';
import { startAgent, textOf } from './suite/mcp-agent.js';
import { Workbench } from './workbench.js';
import { tempDir } from '../helpers/temp-dirs.js';

/** The command the validation fast path escalates instead of deciding (see the MCP tests). */
const ESCALATED = 'rm -rf "$BUILD_DIR/"*';
/** Screenshots of each view: test artifacts, not committed (.gitignore). */
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'e2e');

const why = engineUnavailable();
const found = why ? undefined : e2eTools();
const skip = why ?? (found && 'unavailable' in found ? found.unavailable : undefined);
if (skip) console.warn(`skipping the VS Code end-to-end tests: ${skip}`);
const tools = found && 'tools' in found ? found.tools : (undefined as unknown as E2eTools);

export function makeWorkspace(prefix: string): string {
  const ws = tempDir(prefix);
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
      const settings = { 'lighthouse.baseImage': baseImage(), 'lighthouse.port': await freePort() };
      const suite = path.join(ROOT, 'dist', 'test', 'e2e-suite.js');
      // @vscode/test-electron and VS Code desktop where they can run; code-server where they cannot.
      const desktop = await desktopVsCode(tools.cache);
      if ('executable' in desktop) {
        try {
          await runInDesktop({ vscode: desktop, workspace: ws, testsPath: suite, settings });
        } finally {
          removeBridgeOf(ws);
        }
        return;
      }
      console.warn(`the suite runs in code-server: ${desktop.unavailable}`);
      expect(desktop.unavailable).toMatch(/download|display|LIGHTHOUSE_E2E_RUNNER/);
      const cs = await startCodeServer({
        tools,
        workspace: ws,
        settings,
      });
      const page = await browser.newPage();
      try {
        const r = await runExtensionTests(page, cs, ws, suite, 15 * 60_000);
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

  it(
    'works through the UI: palette, status bar, tree rows and their buttons; a screenshot of each view',
    async () => {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      const ws = makeWorkspace('lh-e2e-ui-');
      const cs = await startCodeServer({
        tools,
        workspace: ws,
        settings: { 'lighthouse.baseImage': baseImage(), 'lighthouse.port': await freePort() },
      });
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const wb = new Workbench(page);
      const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
      let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
      try {
        await page.goto(workbenchUrl(cs, ws));
        await wb.ready();
        await wb.command('Lighthouse: Start Bridge');
        await wb.statusItem('Lighthouse: ready').waitFor({ timeout: 180_000 });
        await wb.command('Lighthouse: Focus on Bridge View');
        const bridgePane = wb.pane('Bridge');
        await wb.row(bridgePane, 'Container').waitFor();
        await shot('bridge');

        await wb.command('Lighthouse: Connect Claude Code');
        await wb.answerInput('claude-ui');
        await expect
          .poll(
            () =>
              fs.existsSync(path.join(ws, '.mcp.json')) &&
              fs.readFileSync(path.join(ws, '.mcp.json'), 'utf8'),
            { timeout: 30_000 },
          )
          .toContain('claude-ui');
        const mcp = JSON.parse(fs.readFileSync(path.join(ws, '.mcp.json'), 'utf8')) as {
          mcpServers: Record<string, { command: string; args: string[] }>;
        };
        agent = await startAgent(mcp.mcpServers.lighthouse!, process.execPath);
        const w = await agent.call('write_file', { path: 'docs/plan.md', content: '# The plan\n' });
        expect(w.isError, textOf(w)).toBeFalsy();

        await wb.command('Lighthouse: Focus on Shadow Files View');
        const shadows = wb.pane('Shadow Files');
        await wb.row(shadows, 'claude-ui').click();
        const fileRow = wb.row(shadows, 'plan.md');
        await fileRow.waitFor({ timeout: 30_000 });
        await shot('shadow-files');
        await wb.rowAction(fileRow, 'Apply File to Workspace');
        await expect
          .poll(() => fs.existsSync(path.join(ws, 'docs', 'plan.md')), { timeout: 30_000 })
          .toBe(true);
        expect(fs.readFileSync(path.join(ws, 'docs', 'plan.md'), 'utf8')).toBe('# The plan\n');

        await wb.command('Lighthouse: Focus on Event Log View');
        const events = wb.pane('Event Log');
        await wb.row(events, 'shadow.applied').waitFor({ timeout: 30_000 });
        await shot('event-log');

        await wb.command('Lighthouse: Focus on Agents View');
        await wb.row(wb.pane('Agents'), 'claude-ui').waitFor({ timeout: 30_000 });
        await shot('agents');

        const v = await agent.call('validate', { tool: 'Bash', input: { command: ESCALATED } });
        const reviewId = (v.structuredContent as { reviewId: string }).reviewId;
        await wb.command('Lighthouse: Focus on Reviews View');
        const reviewRow = wb.row(wb.pane('Reviews'), 'rm -rf');
        await reviewRow.waitFor({ timeout: 30_000 });
        await shot('reviews');
        await wb.rowAction(reviewRow, 'Approve');
        await wb.answerInput('fine in this sandbox');
        const seen = await agent.call('wait_for_review', { review_id: reviewId, wait_ms: 10_000 });
        expect(textOf(seen)).toContain('approved by developer');

        await wb.command('Lighthouse: Stop Bridge');
        await wb.statusItem('Lighthouse: stopped').waitFor({ timeout: 60_000 });
        await shot('stopped');
      } catch (e) {
        await shot('failure').catch(() => undefined);
        throw e;
      } finally {
        await agent?.close();
        await page.close();
        await cs.stop();
        removeBridgeOf(ws);
      }
    },
    10 * 60_000,
  );

  it(
    'a stopped engine gives the documented message, not a stack trace, and says what was tried',
    async () => {
      // A socket nobody listens on (an engine that is stopped), given in the setting; and the default
      // Docker socket hidden from code-server by a private mount, so nothing else answers either.
      const dir = tempDir('lh-e2e-noengine-');
      const dead = path.join(dir, 'docker.sock');
      const server = net.createServer().listen(dead);
      await new Promise((r) => server.once('listening', r));
      // Closing the server removes its socket file: this keeps a file with no listener behind.
      fs.linkSync(dead, `${dead}.stale`);
      await new Promise((r) => server.close(r));
      fs.renameSync(`${dead}.stale`, dead);
      const ws = makeWorkspace('lh-e2e-noengine-');
      const hide = fs.existsSync('/var/run/docker.sock')
        ? [
            'unshare',
            '-m',
            '--propagation',
            'private',
            'sh',
            '-c',
            'mount --bind /dev/null /var/run/docker.sock && exec "$0" "$@"',
          ]
        : [];
      const cs = await startCodeServer({
        tools,
        workspace: ws,
        settings: { 'lighthouse.dockerHost': `unix://${dead}` },
        env: { DOCKER_HOST: '' },
        wrap: hide,
      });
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const wb = new Workbench(page);
      try {
        await page.goto(workbenchUrl(cs, ws));
        await wb.ready();
        await wb.command('Lighthouse: Start Bridge');
        const toast = await wb.notification('no container engine answered');
        await page.screenshot({ path: path.join(ARTIFACTS, 'no-engine.png') });
        const text = await toast.innerText();
        expect(text).toContain('lighthouse.dockerHost');
        expect(text).toContain('Start Docker');
        expect(text).not.toMatch(/\n\s+at |Error:|\.js:\d+/);
        await toast.locator('.monaco-button', { hasText: 'Show What Was Tried' }).click();
        // The editor draws spaces as no-break spaces.
        const output = async () =>
          (await page.locator('.panel .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
        await expect.poll(output, { timeout: 30_000 }).toContain('the engine is stopped');
        const tried = await output();
        expect(tried).toContain(dead);
        expect(tried).toContain('default Docker socket');
        await wb.statusItem('Lighthouse: stopped').waitFor({ timeout: 10_000 });
      } catch (e) {
        await page.screenshot({ path: path.join(ARTIFACTS, 'no-engine-failure.png') }).catch(() => undefined);
        console.log(cs.log().slice(-3000));
        throw e;
      } finally {
        await page.close();
        await cs.stop();
      }
    },
    5 * 60_000,
  );
});
