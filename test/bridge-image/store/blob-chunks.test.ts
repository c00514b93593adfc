import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreReader } from '../../../bridge-image/src/fuse/store-reader.js';
import { BLOB_CHUNK, sha256 } from '../../../bridge-image/src/store/blob-chunks.js';
import { EventStore } from '../../../bridge-image/src/store/event-store.js';
import { tempDir, WRITER_JS } from '../../helpers/bridge-process.js';

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

  it('exports a chunked blob whole', async () => {
    const store = EventStore.open({ file: path.join(tempDir(), 'e.db'), writerScript: WRITER_JS });
    opened.push(store);
    const data = randomBytes(2 * BLOB_CHUNK + 1);
    const { hash } = await store.putBlob(data);
    const exported = [...store.iterateBlobs()].find((b) => b.hash === hash)!;
    expect(exported.data.equals(data)).toBe(true);
    for (const b of store.iterateBlobs()) expect(sha256(b.data)).toBe(b.hash);
  });
});
