import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeClient } from '../../../bridge-image/protocol/index.js';
import { startBridge, tempDir, type BridgeProcess } from '../../helpers/bridge-process.js';

let b: BridgeProcess;
let alice: BridgeClient;
let bob: BridgeClient;
beforeAll(async () => {
  const ws = path.join(tempDir(), 'ws');
  fs.mkdirSync(path.join(ws, 'src'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'src', 'a.ts'), 'a');
  b = await startBridge({ workspace: ws });
  alice = b.agent('alice');
  bob = b.agent('bob');
});
afterAll(async () => {
  await b.stop();
});

describe('leases', () => {
  it("refuses another agent's writes under an exclusive lease with 423, naming the holder and expiry", async () => {
    const lease = await alice.acquireLease({ globs: ['src/**'], ttlMs: 60_000 });
    expect(lease).toMatchObject({ agentId: 'alice', mode: 'exclusive', globs: ['src/**'] });
    const err = await bob.writeFile('src/a.ts', 'bob').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 423, code: 'lease_held' });
    expect((err as { details: unknown }).details).toEqual({
      leaseId: lease.id,
      holder: 'alice',
      glob: 'src/**',
      expiresAt: lease.expiresAt,
    });
    expect((err as Error).message).toContain('alice');
    for (const op of [
      () => bob.deleteFile('src/a.ts'),
      () => bob.move('src/a.ts', 'b.ts'),
      () => bob.mkdir('src/new'),
      () => bob.writeFile('src/deep/new.ts', 'x'),
    ]) {
      await expect(op()).rejects.toMatchObject({ status: 423 });
    }
    // the holder writes freely, others elsewhere too
    await alice.writeFile('src/a.ts', 'alice');
    await bob.writeFile('docs/b.md', 'fine');
    // a conflicting lease is refused too
    await expect(bob.acquireLease({ globs: ['src/a.ts'] })).rejects.toMatchObject({ status: 423 });
    await expect(bob.acquireLease({ globs: ['src/*'], mode: 'shared' })).rejects.toMatchObject({
      status: 423,
    });
    await alice.releaseLease(lease.id);
    await bob.writeFile('src/a.ts', 'bob now');
    expect((await b.admin().query({ type: 'lease.*', stream: 'leases' })).events.map((e) => e.type)).toEqual([
      'lease.acquired',
      'lease.released',
    ]);
  });

  it('shares shared leases, renews, refuses renewing what is not yours, and expires on its own', async () => {
    const s1 = await alice.acquireLease({ globs: ['lib/**'], mode: 'shared', ttlMs: 1500 });
    const s2 = await bob.acquireLease({ globs: ['lib/**'], mode: 'shared', ttlMs: 60_000 });
    await bob.writeFile('lib/x.ts', 'shared leases do not block writes');
    await expect(bob.renewLease(s1.id)).rejects.toMatchObject({ status: 404 });
    const renewed = await bob.renewLease(s2.id, 120_000);
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThan(Date.parse(s2.expiresAt));
    const excl = await alice.acquireLease({ globs: ['tmp/*.log'], ttlMs: 1000 });
    await expect(bob.writeFile('tmp/a.log', 'x')).rejects.toMatchObject({ status: 423 });
    await new Promise((r) => setTimeout(r, 2600));
    await bob.writeFile('tmp/a.log', 'x');
    const live = (await bob.listLeases()).leases.map((l) => l.id);
    expect(live).not.toContain(excl.id);
    expect(live).not.toContain(s1.id);
    expect(live).toContain(s2.id);
    const expired = await b.admin().query({ type: 'lease.expired', stream: 'leases' });
    expect(expired.events.map((e) => (e.data as { id: string }).id).sort()).toEqual([excl.id, s1.id].sort());
  });

  it('keeps live leases across a restart', async () => {
    const l = await alice.acquireLease({ globs: ['keep/**'], ttlMs: 60_000 });
    await b.stop();
    b = await startBridge({ workspace: b.workspace, dataDir: b.dataDir, secret: b.secret });
    await expect(b.agent('bob').writeFile('keep/x', 'y')).rejects.toMatchObject({ status: 423 });
    expect((await b.agent('bob').listLeases()).leases.map((x) => x.id)).toContain(l.id);
  });

  it('refuses bad lease requests with the field named', async () => {
    await expect(b.agent('carol').acquireLease({ globs: [] })).rejects.toMatchObject({ status: 400 });
    await expect(b.agent('carol').acquireLease({ globs: ['x'], ttlMs: 5 })).rejects.toThrow(/ttlMs/);
  });
});
