import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Event } from '../../protocol/index.js';
import { BLOB_CHUNK, chunkHash, isManifest, sha256, split, type BlobRow } from './blob-chunks.js';
import type { EventStore } from './event-store.js';

const Header = z.object({
  kind: z.literal('lighthouse-export'),
  // 1: every blob whole; 2: blobs as stored (chunks, and a manifest with `size` for a chunked one).
  format: z.union([z.literal(1), z.literal(2)]),
  schemaVersion: z.number().int(),
  lastSeq: z.number().int(),
});
const BlobLine = z.object({
  kind: z.literal('blob'),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  data: z.base64(),
  /** Only on a manifest: the size of the whole content, whose chunks are blob lines of their own. */
  size: z.number().int().positive().optional(),
});
const EventLine = Event.extend({ kind: z.literal('event') });

/**
 * Export: a header line, then every blob row as stored (a large blob as its chunks and a manifest, so
 * no line holds more than a chunk), then every event in seq order.
 */
export function* exportJsonl(store: EventStore): Generator<string> {
  const lastSeq = store.lastSeq;
  yield (
    JSON.stringify({ kind: 'lighthouse-export', format: 2, schemaVersion: store.schemaVersion, lastSeq }) +
    '\n'
  );
  for (const b of store.iterateBlobRows()) {
    const data = b.data.toString('base64');
    yield (
      JSON.stringify(
        isManifest(b)
          ? { kind: 'blob', hash: b.hash, size: b.size, data }
          : { kind: 'blob', hash: b.hash, data },
      ) + '\n'
    );
  }
  for (const e of store.iterateEvents(lastSeq)) yield JSON.stringify({ kind: 'event', ...e }) + '\n';
}

export class ImportError extends Error {
  override name = 'ImportError';
}

/** Parses and checks a whole export, then restores it in one transaction: all of it or nothing. */
export async function importJsonl(
  store: EventStore,
  lines: AsyncIterable<string> | Iterable<string>,
): Promise<{ events: number; blobs: number }> {
  if (store.lastSeq !== 0)
    throw new ImportError('import needs an empty store; this one already holds events');
  const events: Event[] = [];
  const blobs: BlobImport = { rows: new Map(), manifests: [], lines: 0 };
  let n = 0;
  let header: z.infer<typeof Header> | undefined;
  for await (const raw of lines) {
    n++;
    const line = raw.trim();
    if (!line) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      throw new ImportError(`line ${n}: not JSON (${(e as Error).message})`);
    }
    if (!header) {
      const h = Header.safeParse(json);
      if (!h.success) throw new ImportError(`line ${n}: expected the lighthouse-export header line first`);
      if (h.data.schemaVersion > store.schemaVersion) {
        throw new ImportError(
          `line ${n}: export has schema ${h.data.schemaVersion}, newer than this bridge's ${store.schemaVersion}`,
        );
      }
      header = h.data;
      continue;
    }
    const kind = (json as { kind?: unknown }).kind;
    if (kind === 'blob') {
      const b = BlobLine.safeParse(json);
      if (!b.success) throw new ImportError(`line ${n}: bad blob line: ${b.error.issues[0]?.message}`);
      addBlobLine(blobs, n, b.data.hash, Buffer.from(b.data.data, 'base64'), b.data.size);
    } else if (kind === 'event') {
      const e = EventLine.safeParse(json);
      if (!e.success) {
        const i = e.error.issues[0];
        throw new ImportError(`line ${n}: bad event line: ${i?.path.join('.')}: ${i?.message}`);
      }
      const { kind: _k, ...ev } = e.data;
      events.push(ev);
    } else {
      throw new ImportError(`line ${n}: unknown kind ${JSON.stringify(kind)}`);
    }
  }
  if (!header) throw new ImportError('the input is empty: no lighthouse-export header');
  if (events.length && events[events.length - 1]!.seq !== header.lastSeq) {
    throw new ImportError(
      `the export is truncated: header says last seq ${header.lastSeq}, found ${events[events.length - 1]!.seq}`,
    );
  }
  for (const m of blobs.manifests) checkManifest(blobs, m);
  try {
    await store.importRows(events, [...blobs.rows.values()]);
  } catch (e) {
    throw new ImportError((e as Error).message);
  }
  return { events: events.length, blobs: blobs.lines };
}

interface BlobImport {
  /** Rows to store, by hash: whole small blobs, chunks and manifests. */
  rows: Map<string, BlobRow & { hash: string }>;
  manifests: { line: number; hash: string }[];
  /** Blob lines read: a whole blob, a chunk or a manifest each count once. */
  lines: number;
}

/**
 * One blob line: whole content (checked against its hash, and chunked here if large, so that a
 * restored store streams it like one written by the bridge), or a manifest (checked once every
 * line is in).
 */
function addBlobLine(to: BlobImport, line: number, hash: string, data: Buffer, size?: number): void {
  to.lines++;
  if (size !== undefined && size !== data.length) {
    if (data.length !== Math.ceil(size / BLOB_CHUNK) * 32 || size <= BLOB_CHUNK) {
      throw new ImportError(
        `line ${line}: blob ${hash}: a manifest of ${size} bytes lists ${Math.ceil(size / BLOB_CHUNK)} chunks of 32-byte hashes, not ${data.length} bytes`,
      );
    }
    to.rows.set(hash, { hash, size, data });
    to.manifests.push({ line, hash });
    return;
  }
  if (sha256(data) !== hash) throw new ImportError(`line ${line}: blob ${hash} does not match its content`);
  const parts = split(data);
  if (!parts) {
    to.rows.set(hash, { hash, size: data.length, data });
    return;
  }
  for (const c of parts.chunks) to.rows.set(c.hash, { hash: c.hash, size: c.data.length, data: c.data });
  to.rows.set(hash, { hash, size: data.length, data: parts.manifest });
}

/** A manifest's chunks must all be in the export and make up exactly the content its hash names. */
function checkManifest(blobs: BlobImport, m: { line: number; hash: string }): void {
  const row = blobs.rows.get(m.hash)!;
  const whole = createHash('sha256');
  let size = 0;
  for (let i = 0; i * 32 < row.data.length; i++) {
    const chunk = blobs.rows.get(chunkHash(row.data, i));
    if (!chunk || isManifest(chunk)) {
      throw new ImportError(
        `line ${m.line}: blob ${m.hash}: chunk ${i} (${chunkHash(row.data, i)}) is not in the export`,
      );
    }
    whole.update(chunk.data);
    size += chunk.data.length;
  }
  if (size !== row.size || whole.digest('hex') !== m.hash) {
    throw new ImportError(`line ${m.line}: blob ${m.hash} does not match its content (from its chunks)`);
  }
}
