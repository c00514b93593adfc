import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type BridgeProcess } from '../../../helpers/bridge-process.js';

let b: BridgeProcess;
beforeAll(async () => {
  b = await startBridge();
});
afterAll(async () => {
  await b.stop();
});

describe('GET /v1/blobs/:hash', () => {
  it('serves blobs larger than one 1 MiB chunk whole, and shadow files of that size by range', async () => {
    const agent = b.agent('big');
    await agent.registerAgent({ capabilities: [] });
    const data = randomBytes(5 * 1024 * 1024 + 99);
    const put = await agent.putBlob(data);
    expect(put.size).toBe(data.length);
    expect((await agent.getBlob(put.hash)).equals(data)).toBe(true);

    const w = await agent.writeFile('big.bin', data);
    expect(w.hash).toBe(put.hash);
    expect((await b.admin().getBlob(w.hash)).equals(data)).toBe(true);
    expect((await agent.readFile('big.bin')).equals(data)).toBe(true);
    const off = 2 * 1024 * 1024 - 10;
    const part = await agent.readFile('big.bin', { offset: off, length: 1024 * 1024 + 20 });
    expect(part.equals(data.subarray(off, off + 1024 * 1024 + 20))).toBe(true);
  });
});

describe('who reads a blob', () => {
  it("refuses another agent's shadow content by hash as if absent (404), records it, and lets the owner and admin read", async () => {
    const alice = b.agent('alice-grants');
    const eve = b.agent('eve-grants');
    const secret = Buffer.from(`alice's secret ${randomBytes(8).toString('hex')}\n`);
    const w = await alice.writeFile('secret.txt', secret);
    // The hash is in the shadow.written event, which every agent can query.
    const [written] = (await eve.query({ stream: 'shadow:alice-grants', type: 'shadow.written' })).events;
    const hash = (written!.data as { hash: string }).hash;
    expect(hash).toBe(w.hash);
    const since = (await b.admin().query({ order: 'desc', limit: 1 })).lastSeq;

    const refused = await eve.getBlob(hash).catch((e: unknown) => e);
    const absent = await eve.getBlob('0'.repeat(64)).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 404, code: 'not_found', message: `no blob ${hash}` });
    expect(absent).toMatchObject({ status: 404, code: 'not_found' });
    expect((await alice.getBlob(hash)).equals(secret)).toBe(true);
    expect((await b.admin().getBlob(hash)).equals(secret)).toBe(true);

    const deadline = Date.now() + 3000;
    let events = (await b.admin().query({ type: 'security.forbidden', after: since })).events;
    while (events.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      events = (await b.admin().query({ type: 'security.forbidden', after: since })).events;
    }
    expect(events.map((e) => [e.agentId, (e.data as { route: string }).route])).toEqual([
      ['eve-grants', '/v1/blobs/:hash'],
      ['eve-grants', '/v1/blobs/:hash'],
    ]);

    // Storing the same content yourself is what grants reading it.
    await eve.putBlob(secret);
    expect((await eve.getBlob(hash)).equals(secret)).toBe(true);
  });
});
