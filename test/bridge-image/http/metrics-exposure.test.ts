import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type BridgeProcess } from '../../helpers/bridge-process.js';

let b: BridgeProcess;
beforeAll(async () => {
  b = await startBridge();
});
afterAll(async () => {
  await b.stop();
});

describe('GET /metrics, unauthenticated for Prometheus on loopback', () => {
  it('holds counts only: no agent ids, session ids, paths or hashes, and only fixed label names', async () => {
    const agent = b.agent('agent-with-a-telltale-id');
    const { info } = await agent.session();
    const w = await agent.writeFile('dir-telltale/file-telltale.txt', 'content\n');
    await agent.readFile('dir-telltale/file-telltale.txt');
    await agent.getBlob(w.hash);
    await agent.readFile('no-such-telltale.txt').catch(() => undefined);
    await fetch(`${b.url}/v1/blobs/${'a'.repeat(64)}`);
    await fetch(`${b.url}/unmatched-telltale-path`);
    await b
      .agent('intruder-telltale', 'expert')
      .status()
      .catch(() => undefined);

    const res = await fetch(`${b.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const secret of ['telltale', info.sessionId, w.hash, 'a'.repeat(64)])
      expect(text).not.toContain(secret);
    const labelNames = new Set(
      [...text.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [...m[1]!.matchAll(/(\w+)="/g)].map((l) => l[1]!)),
    );
    expect([...labelNames].sort()).toEqual(['kind', 'le', 'method', 'route', 'status']);
    // Routes are the patterns, not the paths asked for.
    expect(text).toContain('route="/v1/blobs/:hash"');
    expect(text).toContain('route="unmatched"');
  });
});
