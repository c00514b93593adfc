import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventStore } from '../../../bridge-image/src/store/event-store.js';
import { exportJsonl, ImportError, importJsonl } from '../../../bridge-image/src/store/jsonl.js';
import { tempDir, WRITER_JS } from '../../helpers/bridge-process.js';

const opened: EventStore[] = [];
const open = () => {
  const s = EventStore.open({ file: path.join(tempDir(), 'e.db'), writerScript: WRITER_JS });
  opened.push(s);
  return s;
};
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

describe('JSONL export and import', () => {
  it('restores into an empty store the same events and blobs', async () => {
    const a = open();
    await a.putBlob(Buffer.from('blob one'));
    await a.putBlob(Buffer.from([0, 1, 2, 255]));
    for (let i = 0; i < 120; i++) {
      await a.append({
        stream: `agent:x${i % 4}`,
        agentId: `x${i % 4}`,
        events: [{ type: 'custom.t', data: { i, s: 'é\n"' } }],
      });
    }
    const text = [...exportJsonl(a)].join('');
    const b = open();
    const r = await importJsonl(b, text.split('\n'));
    expect(r).toEqual({ events: 120, blobs: 2 });
    expect(b.query({ limit: 1000 }).events).toEqual(a.query({ limit: 1000 }).events);
    expect(b.getBlob((await a.putBlob(Buffer.from([0, 1, 2, 255]))).hash)).toEqual(
      Buffer.from([0, 1, 2, 255]),
    );
    // New appends continue the sequence.
    const [next] = await b.append({
      stream: 'agent:x0',
      agentId: 'x0',
      events: [{ type: 'custom.t', data: null }],
    });
    expect(next!.seq).toBe(121);
    expect(next!.streamVersion).toBe(31);
  });

  it('refuses a non-empty store, a truncated export, a tampered blob, and leaves the store untouched', async () => {
    const a = open();
    await a.putBlob(Buffer.from('x'));
    for (let i = 0; i < 5; i++)
      await a.append({ stream: 's', agentId: 'a', events: [{ type: 'custom.t', data: i }] });
    const lines = [...exportJsonl(a)].join('').trim().split('\n');
    await expect(importJsonl(a, lines)).rejects.toThrow(/empty store/);

    const b = open();
    await expect(importJsonl(b, lines.slice(0, -1))).rejects.toThrow(/truncated/);
    const tampered = lines.map((l) =>
      l.includes('"blob"') ? l.replace(/"data":"[^"]+"/, '"data":"eQ=="') : l,
    );
    await expect(importJsonl(b, tampered)).rejects.toThrow(ImportError);
    await expect(importJsonl(b, ['{"kind":"event"}'])).rejects.toThrow(/header/);
    await expect(importJsonl(b, [lines[0]!, '{not json'])).rejects.toThrow(/line 2: not JSON/);
    expect(b.lastSeq).toBe(0);
    expect(b.blobCount()).toBe(0);
  });
});
