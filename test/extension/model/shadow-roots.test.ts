/**
 * The Shadow Files root from the bridge's per-agent counts: which agents get a row and with what
 * numbers, and which remembered change lists the counts prove out of date. The last part checks,
 * against a real bridge, that the rows are the ones the tree drew when it fetched every full list.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentInfo, Lease } from '../../../bridge-image/protocol/index.js';
import { shadowRoots, staleLists } from '../../../extension/model/shadow-roots.js';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

const agent = (agentId: string, role: AgentInfo['role'] = 'agent'): AgentInfo => ({
  agentId,
  displayName: null,
  role,
  capabilities: [],
  registeredAt: null,
  lastSeenAt: null,
  connected: true,
  sessions: 1,
});
const lease = (agentId: string): Lease => ({
  id: `lease-${agentId}`,
  agentId,
  globs: ['src/**'],
  mode: 'exclusive',
  acquiredAt: new Date(0).toISOString(),
  expiresAt: new Date(60_000).toISOString(),
});

describe('shadowRoots', () => {
  it('gives a row to each agent with changes or a lease, in the agents’ order, never to admin', () => {
    const rows = shadowRoots(
      [agent('zed'), agent('admin', 'admin'), agent('idle'), agent('holder'), agent('amy', 'expert')],
      [lease('holder')],
      {
        agents: [
          { agentId: 'admin', changes: 4, conflicts: 0 },
          { agentId: 'amy', changes: 2, conflicts: 1 },
          { agentId: 'zed', changes: 5, conflicts: 0 },
        ],
      },
    );
    expect(rows).toEqual([
      { agentId: 'zed', count: 5, conflicts: 0 },
      { agentId: 'holder', count: 0, conflicts: 0 },
      { agentId: 'amy', count: 2, conflicts: 1 },
    ]);
  });

  it('leaves out a shadow of an agent the bridge does not list, as the tree always did', () => {
    expect(shadowRoots([], [], { agents: [{ agentId: 'ghost', changes: 1, conflicts: 0 }] })).toEqual([]);
  });
});

describe('staleLists', () => {
  it('keeps a list whose counts agree with the summary and drops one with other numbers of changes or conflicts', () => {
    // The counts the bridge gave of each whole list when its first page was fetched.
    const remembered = new Map([
      ['same', { total: 2, conflicts: 1 }],
      ['grown', { total: 1, conflicts: 0 }],
      ['newly-conflicting', { total: 2, conflicts: 0 }],
      ['emptied', { total: 1, conflicts: 0 }],
      ['paged', { total: 5000, conflicts: 3 }],
    ]);
    const stale = staleLists(remembered, {
      agents: [
        { agentId: 'same', changes: 2, conflicts: 1 },
        { agentId: 'grown', changes: 2, conflicts: 0 },
        { agentId: 'newly-conflicting', changes: 2, conflicts: 1 },
        { agentId: 'paged', changes: 5000, conflicts: 3 },
      ],
    });
    expect(stale.sort()).toEqual(['emptied', 'grown', 'newly-conflicting']);
  });
});

describe('the root from a real bridge', () => {
  let b: BridgeProcess;
  beforeAll(async () => {
    const ws = path.join(tempDir(), 'ws');
    fs.mkdirSync(path.join(ws, 'src'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'src/a.ts'), 'a\n');
    fs.writeFileSync(path.join(ws, 'src/b.ts'), 'b\n');
    b = await startBridge({ workspace: ws });
  });
  afterAll(async () => {
    await b.stop();
  });

  it('draws the same rows from the counts as from every agent’s full change list', async () => {
    const one = b.agent('one');
    await one.writeFile('src/a.ts', 'one\n');
    await one.deleteFile('src/b.ts');
    await one.writeFile('src/new.ts', 'new\n', { ifMatch: 'absent' });
    const two = b.agent('two');
    await two.writeFile('src/a.ts', 'two\n', { ifMatch: '0'.repeat(64) });
    const three = b.agent('three');
    await three.acquireLease({ globs: ['docs/**'] });
    await b.agent('four').mkdir('only-a-dir');

    const admin = b.admin();
    const [{ agents }, { leases }, summary] = await Promise.all([
      admin.listAgents(),
      admin.listLeases(),
      admin.shadowSummary(),
    ]);
    // What the tree did before: every agent's full list, for its length.
    const before: { agentId: string; count: number; conflicts: number }[] = [];
    for (const a of agents.filter((x) => x.role !== 'admin')) {
      const { changes } = await admin.changes({ agent: a.agentId });
      if (changes.length || leases.some((l) => l.agentId === a.agentId))
        before.push({
          agentId: a.agentId,
          count: changes.length,
          conflicts: changes.filter((c) => c.conflict).length,
        });
    }
    const rows = shadowRoots(agents, leases, summary);
    expect(rows).toEqual(before);
    expect([...rows].sort((x, y) => x.agentId.localeCompare(y.agentId))).toEqual([
      // src/a.ts: one and two make it different things, a conflict for both.
      { agentId: 'one', count: 3, conflicts: 1 },
      { agentId: 'three', count: 0, conflicts: 0 },
      { agentId: 'two', count: 1, conflicts: 1 },
    ]);
  });
});
