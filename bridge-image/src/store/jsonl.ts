import { EXPORT_FORMAT, type ExportHeader } from '../../protocol/index.js';
import { isManifest, split, type BlobRow } from './blob-chunks.js';
import { toEvent } from './event-row.js';
import type { EventStore } from './event-store.js';

/**
 * Export: a header line, then every blob row as stored (a large blob as its chunks and a manifest, so
 * no line holds more than a chunk), then every blob grant, then every event in seq order; all from
 * one snapshot. The text
 * comes a line (or, for a blob, a piece of one) at a time, read only as the consumer asks for it.
 * Returning the generator early (a client that went away) ends the snapshot.
 */
export function exportJsonl(store: EventStore): Generator<string> {
  // Read before the snapshot begins (at the first line), so every event up to it is in the snapshot.
  const lastSeq = store.lastSeq;
  const schemaVersion = store.schemaVersion;
  return store.readSnapshot(function* (r) {
    const header: ExportHeader = { kind: 'lighthouse-export', format: EXPORT_FORMAT, schemaVersion, lastSeq };
    yield JSON.stringify(header) + '\n';
    for (const b of r.blobs()) yield* blobLines(b);
    for (const g of r.grants()) yield JSON.stringify({ kind: 'grant', ...g }) + '\n';
    for (const e of r.events(lastSeq)) yield JSON.stringify({ kind: 'event', ...toEvent(e) }) + '\n';
  });
}

/**
 * A blob row's lines: itself, or, for a large blob stored whole (before chunking), its chunks and a
 * manifest. Each line is yielded in three pieces, its base64 in one (as Node made it, outside the
 * JavaScript heap), so that a chunk's megabytes are not copied again into a line.
 */
function* blobLines(b: BlobRow & { hash: string }): Generator<string> {
  const parts = isManifest(b) ? undefined : split(b.data);
  if (parts) {
    for (const c of parts.chunks) yield* blobLine(c.hash, undefined, c.data);
    yield* blobLine(b.hash, b.size, parts.manifest);
    return;
  }
  yield* blobLine(b.hash, isManifest(b) ? b.size : undefined, b.data);
}

/** An ExportBlobLine; its hash (hex) and data (base64) need no escaping. */
function* blobLine(hash: string, size: number | undefined, data: Buffer): Generator<string> {
  yield `{"kind":"blob","hash":"${hash}",${size === undefined ? '' : `"size":${size},`}"data":"`;
  yield data.toString('base64');
  yield '"}\n';
}
