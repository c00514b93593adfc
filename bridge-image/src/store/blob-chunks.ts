/**
 * Large blobs are stored as 1 MiB chunks, each a blob of its own, plus a row under the content's
 * hash whose `data` is the manifest (the chunks' SHA-256s, 32 bytes each) and whose `size` is the
 * content's: a row whose data is shorter than its size is a manifest. No schema change: small blobs
 * and blobs written before are plain rows. A read at an offset touches only the chunks it needs.
 */
import { createHash } from 'node:crypto';

export const BLOB_CHUNK = 1024 * 1024;

export interface BlobRow {
  size: number;
  data: Buffer;
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The chunks of `data` and its manifest; undefined when it is small enough for one row. */
export function split(
  data: Buffer,
): { chunks: { hash: string; data: Buffer }[]; manifest: Buffer } | undefined {
  if (data.length <= BLOB_CHUNK) return undefined;
  const chunks: { hash: string; data: Buffer }[] = [];
  const manifest = Buffer.alloc(Math.ceil(data.length / BLOB_CHUNK) * 32);
  for (let i = 0, off = 0; off < data.length; i++, off += BLOB_CHUNK) {
    const c = data.subarray(off, off + BLOB_CHUNK);
    const hash = createHash('sha256').update(c).digest();
    hash.copy(manifest, i * 32);
    chunks.push({ hash: hash.toString('hex'), data: c });
  }
  return { chunks, manifest };
}

export const isManifest = (r: BlobRow): boolean => r.data.length !== r.size;

/** The hash of chunk `i` of a manifest. */
export const chunkHash = (manifest: Buffer, i: number): string =>
  manifest.subarray(i * 32, i * 32 + 32).toString('hex');

/** Bytes [offset, offset + length) of a blob, fetching only the chunks that hold them. */
export function readRange(
  row: BlobRow,
  offset: number,
  length: number,
  chunk: (hash: string) => Buffer | undefined,
): Buffer | undefined {
  const end = Math.min(row.size, offset + length);
  if (offset >= end) return Buffer.alloc(0);
  if (!isManifest(row)) return row.data.subarray(offset, end);
  const parts: Buffer[] = [];
  for (let i = Math.floor(offset / BLOB_CHUNK); i * BLOB_CHUNK < end; i++) {
    const c = chunk(chunkHash(row.data, i));
    if (!c) return undefined;
    parts.push(c.subarray(Math.max(0, offset - i * BLOB_CHUNK), Math.min(c.length, end - i * BLOB_CHUNK)));
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}
