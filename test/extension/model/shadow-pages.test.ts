/**
 * Shadow Files a page at a time (issue 18), against a real bridge: an expanded agent shows its first
 * page and a "Show more" row with the number of changes left; each "Show more" adds the next page,
 * with no change twice and none left out; a refresh fetches as many again, afresh; and the counts a
 * remembered list carries are the summary's, so staleLists keeps a paged list that is up to date.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeClient } from '../../../bridge-image/protocol/index.js';
import { ShadowPages } from '../../../extension/model/shadow-pages.js';
import { staleLists } from '../../../extension/model/shadow-roots.js';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

const AGENT = 'builder';
const PAGE = 100;
let b: BridgeProcess;
let admin: BridgeClient;
let ws: string;
let all: string[];
/** What the tree shows under the agent: its files, then a more-row when the list goes on. */
const rows = async (pages: ShadowPages) => {
  const list = await pages.load(AGENT);
  return {
    paths: list.changes.map((c) => c.path),
    more: list.remaining > 0 ? list.remaining : null,
  };
};

beforeAll(async () => {
  ws = path.join(tempDir(), 'ws');
  fs.mkdirSync(path.join(ws, 'src'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'src/app.ts'), 'app\n');
  b = await startBridge({ workspace: ws });
  admin = b.admin();
  const agent = b.agent(AGENT);
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < 250; i++)
    writes.push(agent.writeFile(`dist/out-${String(i).padStart(3, '0')}.js`, `${i}\n`));
  await Promise.all(writes);
  await agent.writeFile('src/app.ts', 'changed\n', { ifMatch: '0'.repeat(64) });
  all = (await admin.allChanges({ agent: AGENT })).map((c) => c.path);
  expect(all).toHaveLength(251);
});
afterAll(async () => {
  await b.stop();
});

describe('ShadowPages against a real bridge', () => {
  const fetch = (agent: string, page: { limit: number; cursor?: string }) =>
    admin.changes({ agent, ...page });

  it('shows the first page and a more-row; each Show more adds the next page, none twice', async () => {
    const pages = new ShadowPages(fetch, PAGE);
    expect(await rows(pages)).toEqual({ paths: all.slice(0, 100), more: 151 });
    pages.showMore(AGENT);
    expect(await rows(pages)).toEqual({ paths: all.slice(0, 200), more: 51 });
    pages.showMore(AGENT);
    const last = await rows(pages);
    expect(last).toEqual({ paths: all, more: null });
    expect(new Set(last.paths).size).toBe(last.paths.length);
    // Showing more than there is changes nothing.
    pages.showMore(AGENT);
    expect(await rows(pages)).toEqual({ paths: all, more: null });
  });

  it('fetches as many again on refresh, with what changed since, and keeps counts of the whole list', async () => {
    const pages = new ShadowPages(fetch, PAGE);
    pages.showMore(AGENT);
    expect((await rows(pages)).more).toBe(51);
    const fresh = 'dist/aaa-first.js';
    await b.agent(AGENT).writeFile(fresh, 'new\n');
    const after = await rows(pages);
    expect(after.paths).toHaveLength(200);
    expect(after.paths[0]).toBe(fresh);
    expect(after.more).toBe(52);
    const list = pages.get(AGENT)!;
    expect(list).toMatchObject({ total: 252, conflicts: 1 });
    // Only 200 of 252 fetched, yet not stale: the counts are those of the whole list.
    expect(staleLists(pages.remembered(), await admin.shadowSummary())).toEqual([]);
    await b.agent(AGENT).deleteFile(fresh);
    expect(staleLists(pages.remembered(), await admin.shadowSummary())).toEqual([AGENT]);
  });

  it('shows an agent with no changes as an empty list, without a more-row', async () => {
    const pages = new ShadowPages(fetch, PAGE);
    expect(await pages.load('nobody')).toMatchObject({ changes: [], total: 0, remaining: 0 });
  });
});
