/**
 * Suite `extension`: the extension in a real VS Code (code-server + headless Chromium) with a real
 * bridge container. The measuring half runs inside the extension host (test/e2e/suite/bench.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
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

const p95 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;

export async function extensionSuite(): Promise<BenchResult[]> {
  const found = e2eTools();
  if ('unavailable' in found)
    throw new Error(`suite extension needs code-server and Chromium: ${found.unavailable}`);
  const { tools } = found;
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'lh-bench-ext-'));
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
    atMost('activation (bundle load + activate)', n.activationMs, 'ms', 100),
    info('activation: evaluating the bundle (part of the above)', n.moduleMs, 'ms'),
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
