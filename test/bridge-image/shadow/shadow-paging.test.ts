/**
 * GET /v1/shadow/changes and /v1/shadow/diff a page at a time (issue 18): ordered by path, every
 * change exactly once across the pages, counts of the whole list on each page, a prefix filter,
 * bounded patches and pages, clear refusals of bad parameters. And the list holds real changes only:
 * no directory alone, no file written back to exactly what the workspace has.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  BridgeError,
  MAX_PATCH_BYTES,
  Routes,
  ShadowChanges,
  type BridgeClient,
  type ShadowChange,
} from '../../../bridge-image/protocol/index.js';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

const AGENT = 'pager';
let b: BridgeProcess;
let ws: string;
let admin: BridgeClient;
let agent: BridgeClient;
/** Every path the agent changes, in the order the pages must give them. */
const expected: string[] = [];

const refusal = (p: Promise<unknown>): Promise<BridgeError> =>
  p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e as BridgeError,
  );

/** Every page of the list, as the extension and the MCP tools walk it. */
async function walk(limit: number, prefix?: string): Promise<{ pages: ShadowChanges[]; paths: string[] }> {
  const pages: ShadowChanges[] = [];
  let cursor: string | undefined;
  do {
    const page = await admin.changes({ agent: AGENT, limit, cursor, prefix });
    pages.push(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return { pages, paths: pages.flatMap((p) => p.changes.map((c) => c.path)) };
}

beforeAll(async () => {
  ws = path.join(tempDir(), 'ws');
  fs.mkdirSync(path.join(ws, 'src'), { recursive: true });
  for (let i = 0; i < 60; i++)
    fs.writeFileSync(path.join(ws, `src/f${String(i).padStart(3, '0')}.ts`), `f${i}\n`);
  fs.writeFileSync(path.join(ws, 'big.txt'), 'x\n');
  fs.writeFileSync(path.join(ws, 'gone.txt'), 'soon gone\n');
  b = await startBridge({ workspace: ws });
  admin = b.admin();
  agent = b.agent(AGENT);

  const writes: Promise<unknown>[] = [];
  // 400 added files in a directory the workspace does not have (node_modules, dist...).
  for (let i = 0; i < 400; i++)
    writes.push(agent.writeFile(`dist/d${String(i).padStart(4, '0')}.js`, `d${i}\n`));
  // 40 modified, 10 deleted, 10 of them in conflict (written on stale content).
  for (let i = 0; i < 40; i++)
    writes.push(
      agent.writeFile(`src/f${String(i).padStart(3, '0')}.ts`, `edited ${i}\n`, {
        ifMatch: i < 10 ? '0'.repeat(64) : undefined,
      }),
    );
  for (let i = 40; i < 50; i++) writes.push(agent.deleteFile(`src/f${String(i).padStart(3, '0')}.ts`));
  await Promise.all(writes);
  // A patch longer than any page may carry whole.
  await agent.writeFile('big.txt', Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join('\n') + '\n');
  for (let i = 0; i < 400; i++) expected.push(`dist/d${String(i).padStart(4, '0')}.js`);
  expected.push('big.txt');
  for (let i = 0; i < 50; i++) expected.push(`src/f${String(i).padStart(3, '0')}.ts`);
  expected.sort();
});
afterAll(async () => {
  await b.stop();
});

describe('paging the change list', () => {
  it('gives every change exactly once, by path, with the counts of the whole list on every page', async () => {
    const { pages, paths } = await walk(120);
    expect(paths).toEqual(expected);
    expect(pages.map((p) => p.changes.length)).toEqual([120, 120, 120, 91]);
    for (const p of pages) expect(p).toMatchObject({ agentId: AGENT, total: 451, conflicts: 10 });
    expect(pages.map((p) => p.nextCursor)).toEqual([
      ...pages.slice(0, 3).map((p) => p.changes[p.changes.length - 1]!.path),
      null,
    ]);
    // The pages are the full list's own entries, and the counts are the summary's.
    const all = await admin.allChanges({ agent: AGENT });
    expect(pages.flatMap((p) => p.changes)).toEqual(all);
    expect(await admin.shadowSummary({ agent: AGENT })).toEqual({
      agents: [{ agentId: AGENT, changes: 451, conflicts: 10 }],
    });
  });

  it('answers 200 changes by default, and a single page when everything fits', async () => {
    const first = await admin.changes({ agent: AGENT });
    expect(first.changes).toHaveLength(200);
    expect(first.nextCursor).toBe(expected[199]);
    const whole = await admin.changes({ agent: AGENT, limit: 1000 });
    expect(whole.changes.map((c) => c.path)).toEqual(expected);
    expect(whole.nextCursor).toBeNull();
  });

  it('filters by directory or file with prefix, counting only what is under it', async () => {
    const { pages, paths } = await walk(7, 'src/');
    expect(paths).toEqual(expected.filter((p) => p.startsWith('src/')));
    for (const p of pages) expect(p).toMatchObject({ total: 50, conflicts: 10 });
    const one = await admin.changes({ agent: AGENT, prefix: './big.txt' });
    expect(one.changes.map((c) => c.path)).toEqual(['big.txt']);
    // Not a string prefix: "sr" is no directory of src/.
    expect(await admin.changes({ agent: AGENT, prefix: 'sr' })).toMatchObject({ total: 0, changes: [] });
  });

  it('continues after a cursor that is no longer a change (applied between two pages)', async () => {
    const page = await admin.changes({ agent: AGENT, limit: 3, prefix: 'src' });
    const next = await admin.changes({ agent: AGENT, limit: 3, prefix: 'src', cursor: 'src/f002.ts~' });
    expect(page.changes.map((c) => c.path)).toEqual(['src/f000.ts', 'src/f001.ts', 'src/f002.ts']);
    expect(next.changes.map((c) => c.path)).toEqual(['src/f003.ts', 'src/f004.ts', 'src/f005.ts']);
  });

  it('refuses bad limits, cursors, prefixes and unknown parameters with a 400 naming them', async () => {
    for (const [query, words] of [
      [{ limit: 0 }, 'limit: at least 1'],
      [{ limit: 1001 }, 'limit: at most 1000'],
      [{ limit: 'ten' }, 'limit'],
      [{ limit: 2.5 }, 'limit: a whole number'],
      [{ cursor: '' }, 'cursor: must not be empty'],
      [{ cursor: 'a\\b' }, 'cursor: contains a backslash'],
      [{ cursor: 'dist/d0001.js', prefix: 'src' }, 'cursor: "dist/d0001.js" is not under prefix "src"'],
      [{ prefix: 'a\u0000b' }, 'prefix: contains a NUL byte'],
      [{ limt: 5 }, 'unknown parameter limt'],
    ] as const) {
      for (const route of [Routes.shadowChanges, Routes.shadowDiff]) {
        const e = await refusal(
          admin.call('GET', route, ShadowChanges, {
            query: { agent: AGENT, ...query } as Record<string, string>,
          }),
        );
        expect(e, JSON.stringify(query)).toBeInstanceOf(BridgeError);
        expect(e.status, JSON.stringify(query)).toBe(400);
        expect(e.message, JSON.stringify(query)).toContain(words);
      }
    }
    const e = await refusal(admin.diff({ agent: AGENT, maxBytes: 10 }));
    expect([e.status, e.message]).toEqual([400, expect.stringContaining('maxBytes: at least 1024')]);
  });

  it('refuses a prefix out of the workspace as a path, naming prefix, and records it', async () => {
    const e = await refusal(agent.changes({ prefix: '../etc' }));
    expect(e).toMatchObject({ status: 403, code: 'path_rejected' });
    expect(e.message).toContain('prefix: ".." is not allowed');
    await vi.waitFor(async () => {
      const events = (await admin.query({ type: 'security.path_rejected', agent: AGENT })).events;
      expect(events.map((x) => (x.data as { path: string }).path)).toContain('../etc');
    });
  });
});

describe('paging the diffs', () => {
  it('diffs page by page, every file once, each patch bounded and marked when cut', async () => {
    const files: { path: string; truncated: boolean; patch: string | null }[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await admin.diff({ agent: AGENT, limit: 150, cursor });
      expect(page).toMatchObject({ total: 451, conflicts: 10, patchLimit: MAX_PATCH_BYTES });
      expect(page.files.length).toBeLessThanOrEqual(150);
      files.push(...page.files);
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(4);
    expect(files.map((f) => f.path)).toEqual(expected);
    const big = files.find((f) => f.path === 'big.txt')!;
    expect(big.truncated).toBe(true);
    expect(Buffer.byteLength(big.patch!)).toBeLessThanOrEqual(MAX_PATCH_BYTES);
    expect(big.patch!.slice(0, 200)).toContain('+++ b/big.txt');
    expect(big.patch!.endsWith('\n')).toBe(true);
    expect(files.filter((f) => f.truncated).map((f) => f.path)).toEqual(['big.txt']);
    expect(files.find((f) => f.path === 'src/f000.ts')!.patch).toContain('+edited 0');
  });

  it('ends a page early rather than take its patches over maxBytes', async () => {
    const page = await admin.diff({ agent: AGENT, prefix: 'src', limit: 50, maxBytes: 2048 });
    const bytes = page.files.reduce(
      (n, f) => n + Buffer.byteLength(f.patch ?? '') + Buffer.byteLength(f.path),
      0,
    );
    expect(bytes).toBeLessThanOrEqual(2048);
    expect(page.files.length).toBeGreaterThan(1);
    expect(page.files.length).toBeLessThan(50);
    expect(page.nextCursor).toBe(page.files[page.files.length - 1]!.path);
    // A patch alone over the budget still makes a page, cut to it.
    const big = await admin.diff({ agent: AGENT, prefix: 'big.txt', maxBytes: 4096 });
    expect(big.files).toHaveLength(1);
    expect(big).toMatchObject({ patchLimit: 4096, nextCursor: null });
    expect(Buffer.byteLength(big.files[0]!.patch!)).toBeLessThanOrEqual(4096);
  });
});

describe('only real changes', () => {
  const paths = async (who: string) =>
    (await admin.allChanges({ agent: who })).map((c: ShadowChange) => c.path);

  it('lists no directory alone, and no file written back to exactly what the workspace has', async () => {
    const undo = b.agent('undoer');
    await undo.mkdir('only-a-dir');
    await undo.mkdir('only-a-dir/deeper');
    await undo.writeFile('src/f055.ts', 'an edit\n');
    await undo.writeFile('src/f055.ts', 'f55\n'); // undone: the workspace's own content
    await undo.writeFile('src/f056.ts', 'a real edit\n');
    await undo.move('src/f057.ts', 'src/tmp.ts');
    await undo.move('src/tmp.ts', 'src/f057.ts'); // moved there and back
    expect(await paths('undoer')).toEqual(['src/f056.ts']);
    const [summary] = (await admin.shadowSummary({ agent: 'undoer' })).agents;
    expect(summary).toEqual({ agentId: 'undoer', changes: 1, conflicts: 0 });
    const diff = await admin.diff({ agent: 'undoer' });
    expect(diff.files.map((f) => f.path)).toEqual(['src/f056.ts']);
  });

  it('drops a change the workspace has caught up with, and shows it again when the workspace moves on', async () => {
    const w = b.agent('caught-up');
    await w.writeFile('src/f058.ts', 'what the developer will also write\n');
    await w.deleteFile('gone.txt');
    const other = b.agent('other');
    await other.writeFile('src/f058.ts', 'something else\n');
    expect(await paths('caught-up')).toEqual(['gone.txt', 'src/f058.ts']);
    expect((await admin.changes({ agent: 'other' })).changes[0]).toMatchObject({
      conflict: true,
      alsoChangedBy: ['caught-up'],
    });

    fs.writeFileSync(path.join(ws, 'src/f058.ts'), 'what the developer will also write\n');
    fs.rmSync(path.join(ws, 'gone.txt'));
    expect(await paths('caught-up')).toEqual([]);
    expect(await admin.shadowSummary({ agent: 'caught-up' })).toEqual({
      agents: [{ agentId: 'caught-up', changes: 0, conflicts: 0 }],
    });
    // Nor does it dispute the other agent's change any more.
    expect((await admin.changes({ agent: 'other' })).changes[0]).toMatchObject({ alsoChangedBy: [] });

    fs.writeFileSync(path.join(ws, 'src/f058.ts'), 'the developer changed it again\n');
    expect(await paths('caught-up')).toEqual(['src/f058.ts']);
  });
});
