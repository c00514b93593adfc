import { isUtf8 } from 'node:buffer';
import type { z } from 'zod';
import {
  ExportBlobLine,
  ExportEventLine,
  ExportGrantLine,
  ExportHeader,
  issuePath,
  MAX_IMPORT_LINE_DEPTH,
  nestsDeeperThan,
  tooDeepMessage,
} from '../../protocol/index.js';
import { BLOB_CHUNK, sha256, split } from './blob-chunks.js';
import { pathOf } from './event-row.js';
import type { EventStore } from './event-store.js';
import { ImportError } from './import-error.js';
import type { ImportTxn } from './import-txn.js';
import { MAX_LINE_BYTES, splitLines } from './jsonl-lines.js';
import type { ImportBlob, ImportEvent, ImportGrant } from './writer-protocol.js';

/** What one message to the writer carries at most (a blob row can take it past, by one row). */
const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_EVENTS = 2000;

export interface ImportOptions {
  maxLineBytes?: number;
}

/**
 * Restores an export into an empty store as it is read: each line is parsed and checked as it
 * arrives and its rows are written at once into one transaction in the writer (writer-import.ts),
 * which commits only once the whole input has been read and checked, so memory holds a line and a
 * batch or two, never the export, and a bad line anywhere leaves the store as it was.
 */
export async function importJsonl(
  store: EventStore,
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  opts: ImportOptions = {},
): Promise<{ events: number; blobs: number }> {
  let txn: ImportTxn;
  try {
    txn = await store.beginImport();
  } catch (e) {
    throw new ImportError((e as Error).message);
  }
  const batch = new Batcher(txn);
  try {
    let header: ExportHeader | undefined;
    let expected = 1;
    let blobs = 0;
    let n = 0;
    for await (const line of splitLines(source, opts.maxLineBytes ?? MAX_LINE_BYTES)) {
      n = line.n;
      const json = parseLine(line.n, line.bytes);
      if (json === undefined) continue;
      if (!header) {
        header = checkHeader(line.n, json, store.schemaVersion);
        continue;
      }
      const kind = (json as { kind?: unknown }).kind;
      if (kind === 'blob') {
        const b = checked(line.n, ExportBlobLine, json, 'bad blob line');
        blobs++;
        for (const row of blobRows(line.n, b)) await batch.blob(row);
      } else if (kind === 'grant') {
        const g = checked(line.n, ExportGrantLine, json, 'bad grant line');
        await batch.grant({ agentId: g.agentId, hash: g.hash });
      } else if (kind === 'event') {
        const e = checked(line.n, ExportEventLine, json, 'bad event line');
        if (e.seq !== expected) {
          throw new ImportError(
            `line ${line.n}: expected seq ${expected} next, found ${e.seq} (the export has a gap or is out of order)`,
            line.n,
          );
        }
        expected++;
        await batch.event(eventRow(line.n, e));
      } else {
        throw new ImportError(`line ${line.n}: unknown kind ${JSON.stringify(kind)}`, line.n);
      }
    }
    if (!header) throw new ImportError('the input is empty: no lighthouse-export header');
    if (expected - 1 !== header.lastSeq) {
      throw new ImportError(
        `the export is truncated after line ${n}: the header says last seq ${header.lastSeq}, found ${expected - 1}`,
      );
    }
    await batch.flush();
    await batch.settled();
    await txn.commit();
    return { events: expected - 1, blobs };
  } catch (e) {
    await txn.abort().catch(() => undefined);
    if (e instanceof ImportError) throw e;
    // The writer's own checks (stream versions, manifests) name their line in the message.
    const line = /^line (\d+):/.exec((e as Error).message);
    throw new ImportError((e as Error).message, line ? Number(line[1]) : undefined);
  }
}

/** The line as JSON, or undefined for a blank one. */
function parseLine(n: number, bytes: Buffer): unknown {
  if (!isUtf8(bytes)) throw new ImportError(`line ${n}: not valid UTF-8`, n);
  // An event line holds data of at most MAX_STORED_DEPTH levels (what readers serve) in one object.
  if (nestsDeeperThan(bytes, MAX_IMPORT_LINE_DEPTH))
    throw new ImportError(`line ${n}: ${tooDeepMessage('the line', MAX_IMPORT_LINE_DEPTH)}`, n);
  const text = bytes.toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ImportError(`line ${n}: not JSON (${(e as Error).message})`, n);
  }
}

function checkHeader(n: number, json: unknown, schemaVersion: number): ExportHeader {
  const h = ExportHeader.safeParse(json);
  if (!h.success) throw new ImportError(`line ${n}: expected the lighthouse-export header line first`, n);
  if (h.data.schemaVersion > schemaVersion) {
    throw new ImportError(
      `line ${n}: export has schema ${h.data.schemaVersion}, newer than this bridge's ${schemaVersion}`,
      n,
    );
  }
  return h.data;
}

function checked<S extends z.ZodType>(n: number, schema: S, json: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  const where = i?.path.length ? `${issuePath(i.path)}: ` : '';
  throw new ImportError(`line ${n}: ${what}: ${where}${i?.message}`, n);
}

/**
 * One blob line's rows: whole content (checked against its hash, and chunked here if large, so that
 * a restored store streams it like one written by the bridge), or a manifest (checked against its
 * chunks in the writer once every line is in).
 */
function blobRows(n: number, b: ExportBlobLine): ImportBlob[] {
  const data = Buffer.from(b.data, 'base64');
  if (b.size !== undefined && b.size !== data.length) {
    const chunks = Math.ceil(b.size / BLOB_CHUNK);
    if (data.length !== chunks * 32 || b.size <= BLOB_CHUNK) {
      throw new ImportError(
        `line ${n}: blob ${b.hash}: a manifest of ${b.size} bytes lists ${chunks} chunks of 32-byte hashes, not ${data.length} bytes`,
        n,
      );
    }
    return [{ hash: b.hash, size: b.size, data, line: n }];
  }
  if (sha256(data) !== b.hash)
    throw new ImportError(`line ${n}: blob ${b.hash} does not match its content`, n);
  const parts = split(data);
  if (!parts) return [{ hash: b.hash, size: data.length, data, line: n }];
  return [
    ...parts.chunks.map((c) => ({ hash: c.hash, size: c.data.length, data: c.data, line: n })),
    { hash: b.hash, size: data.length, data: parts.manifest, line: n },
  ];
}

function eventRow(n: number, e: ExportEventLine): ImportEvent {
  const ts = Date.parse(e.ts);
  if (!Number.isFinite(ts)) throw new ImportError(`line ${n}: bad event line: ts: not a date: ${e.ts}`, n);
  return {
    line: n,
    seq: e.seq,
    id: e.id,
    stream: e.stream,
    streamVersion: e.streamVersion,
    type: e.type,
    agentId: e.agentId,
    ts,
    path: pathOf(e.data),
    data: JSON.stringify(e.data ?? null),
  };
}

/**
 * Rows on their way to the writer, a batch at a time. A batch is sent only once the writer has
 * carried out the one before, so at most one is in the writer and one is filling here.
 */
class Batcher {
  private blobs: ImportBlob[] = [];
  private events: ImportEvent[] = [];
  private grants: ImportGrant[] = [];
  private bytes = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly txn: ImportTxn) {}

  async blob(b: ImportBlob): Promise<void> {
    this.blobs.push(b);
    this.bytes += b.data.length;
    if (this.bytes >= BATCH_BYTES) await this.flush();
  }

  async grant(g: ImportGrant): Promise<void> {
    this.grants.push(g);
    this.bytes += 100;
    if (this.bytes >= BATCH_BYTES || this.grants.length >= BATCH_EVENTS) await this.flush();
  }

  async event(e: ImportEvent): Promise<void> {
    this.events.push(e);
    this.bytes += e.data.length;
    if (this.bytes >= BATCH_BYTES || this.events.length >= BATCH_EVENTS) await this.flush();
  }

  async flush(): Promise<void> {
    await this.inFlight;
    if (this.blobs.length === 0 && this.events.length === 0 && this.grants.length === 0) return;
    const sent = this.txn.rows(this.blobs, this.events, this.grants);
    // Its failure is seen by the next flush or settled(); until then it must not count as unhandled.
    sent.catch(() => undefined);
    this.inFlight = sent;
    this.blobs = [];
    this.events = [];
    this.grants = [];
    this.bytes = 0;
  }

  settled(): Promise<void> {
    return this.inFlight;
  }
}
