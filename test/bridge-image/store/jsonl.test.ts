import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventStore } from '../../../bridge-image/src/store/event-store.js';
import { ImportError } from '../../../bridge-image/src/store/import-error.js';
import { exportJsonl } from '../../../bridge-image/src/store/jsonl.js';
import { importJsonl } from '../../../bridge-image/src/store/jsonl-import.js';
import { tempDir, WRITER_JS } from '../../helpers/bridge-process.js';

/** Lines as an input stream gives them: each ends with a newline. */
const asLines = (lines: string[]) => lines.map((l) => `${l}\n`);

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
    const r = await importJsonl(b, [text]);
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
    await expect(importJsonl(a, asLines(lines))).rejects.toThrow(/empty store/);

    const b = open();
    await expect(importJsonl(b, asLines(lines.slice(0, -1)))).rejects.toThrow(/truncated/);
    const tampered = lines.map((l) =>
      l.includes('"blob"') ? l.replace(/"data":"[^"]+"/, '"data":"eQ=="') : l,
    );
    await expect(importJsonl(b, asLines(tampered))).rejects.toThrow(ImportError);
    await expect(importJsonl(b, asLines(['{"kind":"event"}']))).rejects.toThrow(/header/);
    await expect(importJsonl(b, asLines([lines[0]!, '{not json']))).rejects.toThrow(/line 2: not JSON/);
    expect(b.lastSeq).toBe(0);
    expect(b.blobCount()).toBe(0);
  });

  it('names the line of what only the rows before it can show wrong, and of a bad field', async () => {
    const a = open();
    for (let i = 0; i < 3; i++)
      await a.append({ stream: 's', agentId: 'a', events: [{ type: 'custom.t', data: i }] });
    const lines = [...exportJsonl(a)].join('').trim().split('\n');
    const third = JSON.parse(lines[3]!) as Record<string, unknown>;
    const b = open();
    // Checked in the writer, in the import's transaction: stream versions must rise.
    await expect(
      importJsonl(b, asLines(lines.with(3, JSON.stringify({ ...third, streamVersion: 2 })))),
    ).rejects.toMatchObject({ line: 4, message: 'line 4: event 3 gives stream s version 2, not above 2' });
    await expect(
      importJsonl(b, asLines(lines.with(3, JSON.stringify({ ...third, ts: 'yesterday' })))),
    ).rejects.toThrow(/^line 4: bad event line: ts: not a date/);
    await expect(
      importJsonl(b, asLines(lines.with(3, JSON.stringify({ ...third, seq: 'x' })))),
    ).rejects.toThrow(/^line 4: bad event line: seq: /);
    // A header whose events are all missing is a truncated export too.
    await expect(importJsonl(b, asLines([lines[0]!]))).rejects.toThrow(/truncated .* last seq 3, found 0/);
    expect(b.lastSeq).toBe(0);
    // Nothing was left open: a good import still goes through.
    expect(await importJsonl(b, asLines(lines))).toEqual({ events: 3, blobs: 0 });
  });

  it('holds other writes while an import is open: they land after it, or on the empty store if it fails', async () => {
    const a = open();
    for (let i = 0; i < 5; i++)
      await a.append({ stream: 's', agentId: 'a', events: [{ type: 'custom.t', data: i }] });
    const lines = asLines([...exportJsonl(a)].join('').trim().split('\n'));
    for (const bad of [false, true]) {
      const b = open();
      let appended: Promise<unknown> | undefined;
      const input = (async function* () {
        yield* lines.slice(0, 3);
        // The import's transaction is open, with rows in it (a batch is sent at the end).
        appended = b.append({ stream: 'late', agentId: 'x', events: [{ type: 'custom.late', data: null }] });
        await new Promise((r) => setTimeout(r, 50));
        yield* bad ? ['{oops\n'] : lines.slice(3);
      })();
      const imported = importJsonl(b, input);
      if (bad) await expect(imported).rejects.toThrow(/line 4: not JSON/);
      else await imported;
      const [late] = (await appended) as { seq: number }[];
      expect(late!.seq).toBe(bad ? 1 : 6);
      expect(b.query({ limit: 10 }).events.map((e) => e.type)).toEqual(
        bad ? ['custom.late'] : [...Array(5).fill('custom.t'), 'custom.late'],
      );
    }
  });
});
