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
