/** Messages between the event store (main thread) and its writer worker. Internal to the bridge. */
import type { Claim } from './event-store.js';

export interface AppendOp {
  op: 'append';
  stream: string;
  agentId: string;
  expectedVersion: number | null;
  /**
   * Per event, in parallel arrays (a few arrays of strings clone between threads far cheaper than
   * an object per event): its id, type, JSON of its data, and the path it concerns, if any.
   */
  ids: string[];
  types: string[];
  data: string[];
  paths: (string | null)[];
  /**
   * An idempotency key: the reply to this append (201 or 409) is remembered under (agentId, key) in
   * the same transaction, so a retry after a crash can never append a second time.
   */
  remember: string | null;
  /**
   * A request this append is made for: (agentId, key) is marked carried out (status 0) in the same
   * transaction, so a retry after a crash before its reply is kept learns that, and is not run again.
   */
  claim: Claim | null;
}

export interface BlobOp {
  op: 'blob';
  hash: string;
  data: Uint8Array;
  /** The content's size when `data` is a chunk manifest (blob-chunks.ts); else data's length. */
  size?: number;
  /** The agent storing it: granted the right to read it, in the same transaction. */
  agentId?: string;
}

/** A reply remembered under an idempotency key, so a retried request gets it again; replaces a claim. */
export interface ReplyOp {
  op: 'reply';
  agentId: string;
  key: string;
  status: number;
  body: string;
}

export type WriteOp = AppendOp | BlobOp | ReplyOp;

export type OpResult =
  | { ok: true; seqStart: number; versionStart: number }
  | { ok: false; currentVersion: number }
  | { blobCreated: boolean }
  | { replyStored: boolean };

/** A blob row of an import, as it is to be stored: whole content, a chunk, or a manifest. */
export interface ImportBlob {
  hash: string;
  size: number;
  data: Uint8Array;
  /** The export's line it came from, for errors found later (a manifest's chunks are checked at the end). */
  line: number;
}

/** A blob grant of an import: this agent may read this blob. */
export interface ImportGrant {
  agentId: string;
  hash: string;
}

/** An event of an import, checked on the main thread but for what needs the rows before it. */
export interface ImportEvent {
  line: number;
  seq: number;
  id: string;
  stream: string;
  streamVersion: number;
  type: string;
  agentId: string;
  ts: number;
  path: string | null;
  /** JSON */
  data: string;
}

/**
 * An import is one transaction in the writer, open across many messages: `begin` (refused unless
 * the store is empty), `rows` as many times as it takes, then `commit` or `abort`. The writer
 * answers each with an `import` message, in order; after a failure it has rolled back already.
 */
export type ImportOp =
  | { step: 'begin' }
  | { step: 'rows'; blobs: ImportBlob[]; events: ImportEvent[]; grants?: ImportGrant[] }
  | { step: 'commit' }
  | { step: 'abort' };

export type ToWriter =
  | { kind: 'commit'; id: number; ts: number; ops: WriteOp[] }
  | { kind: 'reload' }
  | { kind: 'close' }
  | ({ kind: 'import' } & ImportOp);

export type FromWriter =
  | { kind: 'ready'; lastSeq: number }
  /** One transaction: the results of every commit message it took, in the order they were sent. */
  | { kind: 'committed'; batches: { id: number; results: OpResult[] }[] }
  | { kind: 'failed'; ids: number[]; message: string }
  | { kind: 'closed' }
  | { kind: 'fatal'; message: string }
  /** The answer to an import message; `lastSeq` after a commit. */
  | { kind: 'import'; ok: true; lastSeq: number }
  | { kind: 'import'; ok: false; message: string }
  /** Something went wrong that costs speed, not data (the index behind the log could not advance). */
  | { kind: 'warning'; message: string };

export interface WriterData {
  file: string;
  synchronous: string;
  /** Events per index step, and how far the index may fall behind under load. */
  indexBatch: number;
  /** Quiet time after a commit before the rest of the tail is indexed. */
  indexIdleMs: number;
}
