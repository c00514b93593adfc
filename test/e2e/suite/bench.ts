import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { BridgeClient } from '../../../bridge-image/protocol/index.js';
import type { LighthouseApi } from '../../../extension/api.js';
import type { ShadowNode } from '../../../extension/tree/shadow-tree.js';

export interface ExtensionNumbers {
  /** From the bundle starting to evaluate to activate() returning. */
  activationMs: number;
  /** The part of activationMs spent evaluating the bundle. */
  moduleMs: number;
  /** Between the bundle's evaluation and activate(): VS Code preparing the extension's context. */
  contextWaitMs: number;
  /** Append → the Event Log view has drawn the event, per sample. */
  eventShownMs: number[];
  /** The append's own round trip (the baseline), per sample. */
  appendMs: number[];
  /** Expanding an agent with 10,000 changed files: children and their tree items, per sample. */
  expandMs: number[];
  /** Fetching those 10,000 changes alone (the baseline), per sample. */
  fetchChangesMs: number[];
}

const FILES = 10_000;

export async function measureExtension(): Promise<ExtensionNumbers> {
  const ext = vscode.extensions.getExtension<LighthouseApi>('lighthouse-dev.lighthouse')!;
  const api = await ext.activate();
  const marks = globalThis as { __lighthouseLoadStart?: number; __lighthouseLoadEnd?: number };
  if (marks.__lighthouseLoadStart === undefined || marks.__lighthouseLoadEnd === undefined)
    throw new Error('the bundle carries no load marks: was it built by esbuild.config.mjs?');
  // VS Code's own "activation time" is loading the code plus the activate() call; the wait between the
  // two is VS Code preparing the extension's context (its storage), which the extension cannot shorten.
  const moduleMs = marks.__lighthouseLoadEnd - marks.__lighthouseLoadStart;
  const contextWaitMs = api.activatedAt - marks.__lighthouseLoadEnd;
  const activationMs = moduleMs + api.activationMs;

  await vscode.commands.executeCommand('lighthouse.start');
  const client = api.bridge.client!;

  // The Event Log must be on screen: VS Code asks a tree for children only when it is visible.
  await vscode.commands.executeCommand('lighthouse.events.focus');
  const eventShownMs: number[] = [];
  const appendMs: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    const r = await client.append({
      stream: 'custom:bench',
      events: [{ type: 'custom.bench_tick', data: { i } }],
    });
    const t1 = performance.now();
    await Promise.race([
      api.trees.events.whenShown(r.events[0]!.seq),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`event #${r.events[0]!.seq} not shown after 10 s`)), 10_000),
      ),
    ]);
    const t2 = performance.now();
    if (i >= 5) {
      appendMs.push(t1 - t0);
      eventShownMs.push(t2 - t0);
    }
    await new Promise((res) => setTimeout(res, 50));
  }

  // An agent with 10,000 changed files, written over HTTP as an agent would.
  const conn = (await vscode.commands.executeCommand('lighthouse.connectClaudeCode', {
    agentId: 'bench-10k',
    hooks: false,
    quiet: true,
  })) as { keyFile: string };
  const { readFileSync } = await import('node:fs');
  const agent = new BridgeClient({
    baseUrl: api.bridge.info!.url,
    agentId: 'bench-10k',
    key: Buffer.from(readFileSync(conn.keyFile, 'utf8').trim(), 'hex'),
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < FILES) {
        const n = next++;
        await agent.writeFile(`gen/d${n % 100}/file-${n}.txt`, `content ${n}\n`);
      }
    }),
  );
  await agent.close();
  const node: ShadowNode = { kind: 'agent', agentId: 'bench-10k', count: FILES, conflicts: 0 };
  const expandMs: number[] = [];
  const fetchChangesMs: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    const kids = await api.trees.shadow.getChildren(node);
    for (const k of kids) api.trees.shadow.getTreeItem(k);
    const t1 = performance.now();
    if (kids.filter((k) => k.kind === 'file').length !== FILES)
      throw new Error(`expected ${FILES} files, got ${kids.length}`);
    await client.changes({ agent: 'bench-10k' });
    const t2 = performance.now();
    if (i > 0) {
      expandMs.push(t1 - t0);
      fetchChangesMs.push(t2 - t1);
    }
  }
  await vscode.commands.executeCommand('lighthouse.remove', true);
  return { activationMs, moduleMs, contextWaitMs, eventShownMs, appendMs, expandMs, fetchChangesMs };
}
