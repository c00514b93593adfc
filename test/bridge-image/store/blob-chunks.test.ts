import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreReader } from '../../../bridge-image/src/fuse/store-reader.js';
import { BLOB_CHUNK, sha256 } from '../../../bridge-image/src/store/blob-chunks.js';
import { exportJsonl } from '../../../bridge-image/src/store/jsonl.js';
import { importJsonl } from '../../../bridge-image/src/store/jsonl-import.js';
import { EventStore } from '../../../bridge-image/src/store/event-store.js';
import { tempDir, WRITER_JS } from '../../helpers/bridge-process.js';

/** Lines as an input stream gives them: each ends with a newline. */
const asLines = (lines: string[]) => lines.map((l) => `${l}\n`);

const opened: EventStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

describe('blobs in 1 MiB chunks', () => {
  it('stores a large blob as chunks plus a manifest, and reads it whole and at any offset', async () => {
    const file = path.join(tempDir(), 'e.db');
    const store = EventStore.open({ file, writerScript: WRITER_JS });
    opened.push(store);
    const data = randomBytes(3 * BLOB_CHUNK + 12345);
    const put = await store.putBlob(data);
    expect(put).toEqual({ hash: sha256(data), size: data.length, created: true });
    expect((await store.putBlob(data)).created).toBe(false);

    const db = new Database(file, { readonly: true });
    const row = db.prepare('SELECT size, length(data) AS len FROM blobs WHERE hash = ?').get(put.hash) as {
      size: number;
      len: number;
    };
    // The row under the content's hash is a manifest of 4 chunk hashes; each chunk is a blob.
    expect(row).toEqual({ size: data.length, len: 4 * 32 });
    const chunk0 = db
      .prepare('SELECT data FROM blobs WHERE hash = ?')
      .pluck()
      .get(sha256(data.subarray(0, BLOB_CHUNK)));
    expect(Buffer.compare(chunk0 as Buffer, data.subarray(0, BLOB_CHUNK))).toBe(0);
    db.close();

    expect(store.getBlob(put.hash)!.equals(data)).toBe(true);
    for (const [off, len] of [
      [0, 10],
      [BLOB_CHUNK - 5, 10],
      [2 * BLOB_CHUNK + 7, BLOB_CHUNK + 100],
      [data.length - 3, 100],
      [data.length + 1, 10],
    ] as const) {
      expect(store.readBlobRange(put.hash, off, len)!.equals(data.subarray(off, off + len))).toBe(true);
    }

    // The FUSE daemon's read-only connection reads the same, while the bridge's stays open.
    const reader = new StoreReader(file);
    expect(reader.getBlob(put.hash)!.equals(data)).toBe(true);
    expect(
      reader
        .readBlobRange(put.hash, BLOB_CHUNK + 1, 50)!
        .equals(data.subarray(BLOB_CHUNK + 1, BLOB_CHUNK + 51)),
    ).toBe(true);
    reader.close();

    // A small blob stays one plain row.
    const small = Buffer.from('small');
    const s = await store.putBlob(small);
    expect(store.getBlob(s.hash)!.toString()).toBe('small');
    expect(store.readBlobRange(s.hash, 1, 3)!.toString()).toBe('mal');
  });

  it('exports a chunked blob as its chunks and manifest, and restores it chunked', async () => {
    const a = EventStore.open({ file: path.join(tempDir(), 'a.db'), writerScript: WRITER_JS });
    const b = EventStore.open({ file: path.join(tempDir(), 'b.db'), writerScript: WRITER_JS });
    opened.push(a, b);
    const data = randomBytes(3 * BLOB_CHUNK + 12345);
    const { hash } = await a.putBlob(data);
    await a.append({ stream: 's', agentId: 'x', events: [{ type: 'custom.file', data: { hash } }] });
    const text = [...exportJsonl(a)].join('');
    // No line carries more than a chunk, and the content is in the export once.
    const longest = Math.max(...text.split('\n').map((l) => l.length));
    expect(longest).toBeLessThan(BLOB_CHUNK * 1.4);
    expect(text.length).toBeLessThan(data.length * 1.4);

    await importJsonl(b, [text]);
    expect(b.getBlob(hash)!.equals(data)).toBe(true);
    expect(
      b.readBlobRange(hash, BLOB_CHUNK - 5, 10)!.equals(data.subarray(BLOB_CHUNK - 5, BLOB_CHUNK + 5)),
    ).toBe(true);
    // Restored as it was stored: the same rows, the large one a manifest.
    const rows = (s: EventStore) =>
      [...s.readSnapshot((r) => r.blobs())].map((r) => ({
        hash: r.hash,
        size: r.size,
        bytes: r.data.length,
      }));
    expect(rows(b)).toEqual(rows(a));
    expect(rows(b).find((r) => r.hash === hash)).toEqual({ hash, size: data.length, bytes: 4 * 32 });
  });

  it('restores a format 1 export (every blob whole) with large blobs chunked', async () => {
    const b = EventStore.open({ file: path.join(tempDir(), 'b.db'), writerScript: WRITER_JS });
    opened.push(b);
    const data = randomBytes(BLOB_CHUNK + 10);
    const hash = sha256(data);
    const lines = [
      JSON.stringify({ kind: 'lighthouse-export', format: 1, schemaVersion: 3, lastSeq: 0 }),
      JSON.stringify({ kind: 'blob', hash, data: data.toString('base64') }),
    ];
    expect(await importJsonl(b, asLines(lines))).toEqual({ events: 0, blobs: 1 });
    expect(b.getBlob(hash)!.equals(data)).toBe(true);
    expect([...b.readSnapshot((r) => r.blobs())]).toHaveLength(3);
  });

  it('refuses a manifest whose chunk is missing or whose chunks make other content', async () => {
    const a = EventStore.open({ file: path.join(tempDir(), 'a.db'), writerScript: WRITER_JS });
    opened.push(a);
    const data = randomBytes(2 * BLOB_CHUNK + 1);
    const { hash } = await a.putBlob(data);
    const lines = [...exportJsonl(a)].join('').trim().split('\n');
    const chunkLines = lines.filter((l) => l.includes('"blob"') && !l.includes('"size"'));
    for (const bad of [
      lines.filter((l) => l !== chunkLines[0]),
      // A chunk swapped for another (valid) blob: its hash no longer matches the manifest's list.
      lines.map((l) =>
        l === chunkLines[0]
          ? JSON.stringify({ kind: 'blob', hash: sha256(Buffer.from('x')), data: 'eA==' })
          : l,
      ),
    ]) {
      const b = EventStore.open({ file: path.join(tempDir(), 'b.db'), writerScript: WRITER_JS });
      opened.push(b);
      await expect(importJsonl(b, asLines(bad))).rejects.toThrow(
        new RegExp(`blob ${hash}: chunk \\d+ .* is not in the export`),
      );
      expect(b.blobCount()).toBe(0);
    }
    // A manifest that lists the right chunks for another size.
    const b = EventStore.open({ file: path.join(tempDir(), 'b.db'), writerScript: WRITER_JS });
    opened.push(b);
    const resized = lines.map((l) => l.replace(`"size":${data.length}`, `"size":${data.length + 1}`));
    await expect(importJsonl(b, asLines(resized))).rejects.toThrow(/does not match its content/);
  });
});
