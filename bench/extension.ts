/**
 * Suite `extension`: the extension in a real VS Code (code-server + headless Chromium) with a real
 * bridge container. The measuring half runs inside the extension host (test/e2e/suite/bench.ts).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  e2eTools,
  freePort,
  launchBrowser,
  runExtensionTests,
  startCodeServer,
} from '../test/e2e/code-server.js';
import type { ExtensionNumbers } from '../test/e2e/suite/bench.js';
import { baseImage } from '../test/helpers/docker.js';
import { median, ROOT } from './lib/processes.js';
import { atMost, info, type BenchResult } from './lib/report.js';
import { tempDir } from '../test/helpers/temp-dirs.js';

const p95 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;

/**
 * Compiling happens before the bundle's first line runs, so the in-editor marks miss it: measured
 * here by requiring the bundle in a fresh Node with a stand-in for the vscode module (median of 5).
 */
function loadInPlainNode(): number {
  const script = `
    const Module = require('node:module');
    const load = Module._load;
    Module._load = function (req, ...rest) {
      return req === 'vscode' ? {} : load.call(this, req, ...rest);
    };
    const t0 = performance.now();
    require(${JSON.stringify(path.join(ROOT, 'dist', 'extension.js'))});
    process.stdout.write(String(performance.now() - t0));`;
  const runs = Array.from({ length: 5 }, () =>
    Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })),
  );
  return median(runs);
}

export async function extensionSuite(): Promise<BenchResult[]> {
  const found = e2eTools();
  if ('unavailable' in found)
    throw new Error(`suite extension needs code-server and Chromium: ${found.unavailable}`);
  const { tools } = found;
  const ws = tempDir('lh-bench-ext-');
  fs.chmodSync(ws, 0o755);
  const out = path.join(ws, '..', `${path.basename(ws)}-numbers.json`);
  const cs = await startCodeServer({
    tools,
    workspace: ws,
    settings: { 'lighthouse.baseImage': baseImage(), 'lighthouse.port': await freePort() },
    env: { LIGHTHOUSE_BENCH_OUT: out },
  });
  const browser = await launchBrowser(tools);
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const r = await runExtensionTests(
      page,
      cs,
      ws,
      path.join(ROOT, 'dist', 'test', 'e2e-bench.js'),
      15 * 60_000,
    );
    if (r.code !== 0 || !fs.existsSync(out)) {
      throw new Error(`the in-editor benchmark failed (exit ${r.code}):\n${r.output.slice(-40).join('\n')}`);
    }
  } finally {
    await browser.close();
    await cs.stop();
  }
  const n = JSON.parse(fs.readFileSync(out, 'utf8')) as ExtensionNumbers;
  return [
    atMost('activation (bundle evaluation + activate())', n.activationMs, 'ms', 100),
    info('activation: evaluating the bundle (part of the above)', n.moduleMs, 'ms'),
    info('activation: compiling + evaluating the bundle in plain Node', loadInPlainNode(), 'ms'),
    info("VS Code preparing the extension's context (not counted)", n.contextWaitMs, 'ms'),
    atMost('appended event shown in the Event Log, p95', p95(n.eventShownMs), 'ms', 200, p95(n.appendMs)),
    info('appended event shown in the Event Log, median', median(n.eventShownMs), 'ms', median(n.appendMs)),
    atMost(
      'expanding a shadow with 10,000 changed files, median',
      median(n.expandMs),
      'ms',
      300,
      median(n.fetchChangesMs),
    ),
  ];
}
