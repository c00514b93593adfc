/**
 * shadow_changes and shadow_diff on a shadow with 2,500 changes (issue 18: a client refused a 443 KB
 * answer), through the real SDK client over stdio against a real bridge: every answer is small, the
 * counts are those of the whole list, paging with the cursor each answer gives meets every change
 * exactly once, and the paging advice is in structuredContent too (Claude Code gives the model that
 * instead of the text).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { BridgeClient } from '../../bridge-image/protocol/index.js';
import { shadowChangesOutput } from '../../mcp-server/tools/shadow-changes.js';
import { shadowDiffOutput } from '../../mcp-server/tools/shadow-diff.js';
import { startBridge, tempDir, type BridgeProcess } from '../helpers/bridge-process.js';
import { agentArgs, connectMcp, textOf, type McpConnection } from './mcp-process.js';

const AGENT = 'claude-1';
/** Well under what MCP clients accept: the whole answer, text and structuredContent together. */
const MAX_ANSWER = 50_000;
const pad = (i: number) => String(i).padStart(4, '0');

let bridge: BridgeProcess;
let mcp: McpConnection;
let admin: BridgeClient;
/** Every changed path, by path. */
let all: string[];

const size = (r: CallToolResult) => Buffer.byteLength(JSON.stringify(r));
const call = async (name: string, args: Record<string, unknown>) => {
  const res = await mcp.call(name, args);
  expect(res.isError, `${name}: ${textOf(res)}`).toBeFalsy();
  expect(size(res), `${name} ${JSON.stringify(args)}`).toBeLessThan(MAX_ANSWER);
  return res;
};

beforeAll(async () => {
  const ws = path.join(tempDir(), 'ws');
  fs.mkdirSync(path.join(ws, 'src'), { recursive: true });
  for (let i = 0; i < 300; i++)
    fs.writeFileSync(path.join(ws, `src/m${pad(i)}.ts`), `export const m = ${i};\n`);
  fs.writeFileSync(path.join(ws, 'src/huge.txt'), 'one line\n');
  bridge = await startBridge({ workspace: ws });
  admin = bridge.admin();
  const agent = bridge.agent(AGENT);
  // 2,200 files an install or a build would make, 250 edits (10 of them on stale content: conflicts),
  // 49 deletions, and one edit whose diff alone is larger than an answer may be.
  const jobs: (() => Promise<unknown>)[] = [];
  for (let i = 0; i < 2200; i++)
    jobs.push(() => agent.writeFile(`node_modules/pkg-${pad(i)}/index.js`, `module.exports = ${i};\n`));
  for (let i = 0; i < 250; i++)
    jobs.push(() =>
      agent.writeFile(`src/m${pad(i)}.ts`, `export const m = ${i + 1};\n`, {
        ifMatch: i < 10 ? '0'.repeat(64) : undefined,
      }),
    );
  for (let i = 250; i < 299; i++) jobs.push(() => agent.deleteFile(`src/m${pad(i)}.ts`));
  jobs.push(() =>
    agent.writeFile('src/huge.txt', Array.from({ length: 30_000 }, (_, i) => `line ${i}`).join('\n') + '\n'),
  );
  for (let i = 0; i < jobs.length; i += 100) await Promise.all(jobs.slice(i, i + 100).map((j) => j()));
  all = (await admin.allChanges({ agent: AGENT })).map((c) => c.path);
  expect(all).toHaveLength(2500);
  mcp = await connectMcp(agentArgs(bridge, AGENT));
}, 120_000);
afterAll(async () => {
  await mcp?.close();
  await bridge?.stop();
});

describe('shadow_changes on 2,500 changes', () => {
  it('pages through every change exactly once, each answer small, saying the counts and the next cursor', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let answers = 0;
    do {
      const res = await call('shadow_changes', cursor === undefined ? {} : { cursor });
      const out = shadowChangesOutput.parse(res.structuredContent);
      expect(out).toMatchObject({ agentId: AGENT, total: 2500, conflicts: 10, shown: out.changes.length });
      seen.push(...out.changes.map((c) => c.path));
      // The advice a model needs is in structuredContent itself, and in the text.
      expect(out.note).toContain('2500 changed paths in your shadow (10 in conflict)');
      if (out.nextCursor !== null) {
        expect(out.nextCursor).toBe(out.changes[out.changes.length - 1]!.path);
        expect(out.note).toContain(
          `call shadow_changes again with ${JSON.stringify({ cursor: out.nextCursor })}`,
        );
      }
      expect(textOf(res)).toContain(out.note);
      cursor = out.nextCursor ?? undefined;
      answers++;
    } while (cursor !== undefined);
    expect(seen).toEqual(all);
    // At most 100 a page, fewer when their JSON would make the answer large.
    expect(answers).toBeGreaterThanOrEqual(25);
  });

  it('takes a limit and a directory, counting only under it', async () => {
    const five = shadowChangesOutput.parse((await call('shadow_changes', { limit: 5 })).structuredContent);
    expect(five.changes.map((c) => c.path)).toEqual(all.slice(0, 5));
    expect(five).toMatchObject({ shown: 5, nextCursor: all[4], total: 2500 });

    const seen: string[] = [];
    let cursor: string | undefined;
    let last: string | undefined;
    do {
      const args = { path: 'src', limit: 200, ...(cursor === undefined ? {} : { cursor }) };
      const out = shadowChangesOutput.parse((await call('shadow_changes', args)).structuredContent);
      expect(out).toMatchObject({ total: 300, conflicts: 10 });
      seen.push(...out.changes.map((c) => c.path));
      if (out.nextCursor !== null)
        expect(out.note).toContain(JSON.stringify({ path: 'src', cursor: out.nextCursor }));
      cursor = out.nextCursor ?? undefined;
      last = out.note;
    } while (cursor !== undefined);
    expect(seen).toEqual(all.filter((p) => p.startsWith('src/')));
    expect(last).toContain('This is the last page');
  });

  it('refuses a limit over its maximum, and a cursor of another listing, saying what was wrong', async () => {
    const over = await mcp.call('shadow_changes', { limit: 5000 });
    expect(over.isError).toBe(true);
    expect(textOf(over)).toContain('limit');
    const foreign = await mcp.call('shadow_changes', { path: 'src', cursor: all[0] });
    expect(foreign.isError).toBe(true);
    expect(textOf(foreign)).toContain('is not under prefix');
  });
});

describe('shadow_diff on 2,500 changes', () => {
  it('pages through every diff exactly once, each answer small, the huge patch cut and marked', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let largest = 0;
    do {
      const res = await call('shadow_diff', cursor === undefined ? { limit: 50 } : { limit: 50, cursor });
      largest = Math.max(largest, size(res));
      const out = shadowDiffOutput.parse(res.structuredContent);
      expect(out).toMatchObject({ total: 2500, conflicts: 10, shown: out.files.length });
      seen.push(...out.files.map((f) => f.path));
      const huge = out.files.find((f) => f.path === 'src/huge.txt');
      if (huge) {
        expect(huge.truncated).toBe(true);
        expect(out.note).toContain(`1 patch was cut at ${out.patchLimit} bytes`);
        expect(textOf(res)).toContain('read_file shows the whole file');
      }
      if (out.nextCursor !== null) expect(out.note).toContain(JSON.stringify({ cursor: out.nextCursor }));
      cursor = out.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(seen).toEqual(all);
    expect(largest).toBeLessThan(MAX_ANSWER);
  });

  it('diffs one file by its path', async () => {
    const res = await call('shadow_diff', { path: 'src/m0017.ts' });
    const out = shadowDiffOutput.parse(res.structuredContent);
    expect(out).toMatchObject({ total: 1, shown: 1, nextCursor: null, conflicts: 0 });
    expect(out.files[0]!.patch).toContain('+export const m = 18;');
    expect(out.note).toContain('all shown');
  });
});
