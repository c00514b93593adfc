/**
 * GET /v1/shadow/summary: every shadow's counts in one call, for the extension's Shadow Files root.
 * The counts must be exactly what the full change lists give (changes, and of those the conflicts),
 * across adds, edits, deletions, moves and every kind of conflict; only admin may ask.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Routes,
  ShadowSummary,
  type BridgeClient,
  type ShadowCount,
} from '../../../bridge-image/protocol/index.js';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let b: BridgeProcess;
let ws: string;
let admin: BridgeClient;
const AGENTS = ['alice', 'bob', 'carol', 'dave'];

/** What the summary must say, worked out from the full change lists the tree used to fetch. */
async function countedFromLists(agents: string[]): Promise<ShadowCount[]> {
  const out: ShadowCount[] = [];
  for (const agentId of agents) {
    const { changes } = await admin.changes({ agent: agentId });
    if (changes.length)
      out.push({ agentId, changes: changes.length, conflicts: changes.filter((c) => c.conflict).length });
  }
  return out;
}

beforeAll(async () => {
  ws = path.join(tempDir(), 'ws');
  fs.mkdirSync(path.join(ws, 'src'), { recursive: true });
  for (const f of ['README.md', 'src/a.ts', 'src/b.ts', 'src/c.ts', 'src/d.ts', 'old.txt'])
    fs.writeFileSync(path.join(ws, f), `${f} as it was\n`);
  b = await startBridge({ workspace: ws });
  admin = b.admin();

  const alice = b.agent('alice');
  await alice.writeFile('src/a.ts', 'alice edits a\n'); // modified
  await alice.writeFile('src/new.ts', 'alice adds\n'); // added
  await alice.deleteFile('src/b.ts'); // deleted
  await alice.move('old.txt', 'docs/old.txt'); // moved, and its origin deleted
  await alice.writeFile('src/c.ts', 'based on stale content\n', { ifMatch: sha('not what it was') }); // conflict
  await alice.deleteFile('src/d.ts'); // a deletion the workspace changes under (below)
  await alice.mkdir('empty'); // a directory alone is no change

  await b.admin().nameExpert({ agentId: 'bob', capabilities: ['files'] });
  const bob = b.agent('bob', 'expert');
  await bob.writeFile('src/a.ts', 'bob edits a too\n'); // the same path as alice, differently: a conflict in both
  await bob.writeFile('README.md', 'bob edits the readme\n'); // the workspace changes under it (below)
  await bob.deleteFile('src/c.ts'); // alice writes it: a conflict in both

  const carol = b.agent('carol');
  await carol.mkdir('carol-only-dirs'); // changes nothing
  await b.agent('dave').status(); // no shadow at all

  // The developer edits the workspace under bob's README.md and alice's deletion of src/d.ts.
  fs.writeFileSync(path.join(ws, 'README.md'), 'the developer changed it\n');
  fs.writeFileSync(path.join(ws, 'src/d.ts'), 'the developer changed it too\n');
});
afterAll(async () => {
  await b.stop();
});

describe('GET /v1/shadow/summary', () => {
  it('gives each shadow its number of changes and conflicts, the same as its full change list', async () => {
    const summary = await admin.shadowSummary();
    expect(summary.agents).toEqual(await countedFromLists(AGENTS));
    // Stated outright too, so that both sides being wrong the same way cannot pass:
    // alice: a (M, bob too), new (A), b (D), docs/old.txt (R) + old.txt (D), c (M, stale), d (D,
    // workspace moved on); bob: a (M, alice too), README.md (M, workspace moved on), c (D, alice too).
    expect(summary.agents).toEqual([
      { agentId: 'alice', changes: 7, conflicts: 3 },
      { agentId: 'bob', changes: 3, conflicts: 3 },
    ]);
  });

  it('names one agent on request, also one whose shadow changes nothing', async () => {
    expect((await admin.shadowSummary({ agent: 'bob' })).agents).toEqual([
      { agentId: 'bob', changes: 3, conflicts: 3 },
    ]);
    expect((await admin.shadowSummary({ agent: 'carol' })).agents).toEqual([
      { agentId: 'carol', changes: 0, conflicts: 0 },
    ]);
    expect((await admin.shadowSummary({ agent: 'nobody-at-all' })).agents).toEqual([
      { agentId: 'nobody-at-all', changes: 0, conflicts: 0 },
    ]);
  });

  it('follows the shadows: a conflict mended in the workspace, files applied and discarded', async () => {
    fs.writeFileSync(path.join(ws, 'README.md'), 'README.md as it was\n');
    expect((await admin.shadowSummary({ agent: 'bob' })).agents[0]).toEqual({
      agentId: 'bob',
      changes: 3,
      conflicts: 2,
    });
    await admin.applyShadow({ agentId: 'alice', paths: ['src/a.ts', 'src/new.ts'] });
    await admin.discardShadow({ agentId: 'alice', paths: ['src/d.ts'] });
    await admin.discardShadow({ agentId: 'bob', paths: ['src/a.ts', 'README.md', 'src/c.ts'] });
    const summary = await admin.shadowSummary();
    expect(summary.agents).toEqual(await countedFromLists(AGENTS));
    expect(summary.agents).toEqual([{ agentId: 'alice', changes: 4, conflicts: 1 }]);
  });

  it('is for admin only: an agent or an expert gets 403', async () => {
    await expect(b.agent('alice').shadowSummary()).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    await expect(b.agent('alice').shadowSummary({ agent: 'alice' })).rejects.toMatchObject({ status: 403 });
    await expect(b.agent('bob', 'expert').shadowSummary()).rejects.toMatchObject({ status: 403 });
  });

  it('refuses a bad agent id or an unknown parameter with a 400 naming it', async () => {
    await expect(admin.shadowSummary({ agent: '../alice' })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_request',
      message: expect.stringContaining('agent'),
    });
    await expect(
      admin.call('GET', Routes.shadowSummary, ShadowSummary, { query: { agents: 'alice' } }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('unknown parameter agents') });
  });
});
