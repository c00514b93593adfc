import type {
  FromWriter,
  ImportBlob,
  ImportEvent,
  ImportGrant,
  ImportOp,
  ToWriter,
} from './writer-protocol.js';

type ImportReply = Extract<FromWriter, { kind: 'import' }>;

/**
 * The main thread's handle on an import transaction in the writer (writer-import.ts). Each step
 * resolves once the writer has carried it out, so a caller that awaits one batch before sending
 * the next never has more than one batch in flight.
 */
export class ImportTxn {
  private readonly waiting: { resolve: (lastSeq: number) => void; reject: (e: Error) => void }[] = [];
  private ended = false;

  constructor(
    private readonly post: (m: ToWriter) => void,
    private readonly onEnd: (lastSeq: number | undefined) => void,
  ) {}

  begin(): Promise<void> {
    return this.step({ step: 'begin' }).then(() => undefined);
  }

  rows(blobs: ImportBlob[], events: ImportEvent[], grants: ImportGrant[] = []): Promise<void> {
    return this.step({ step: 'rows', blobs, events, grants }).then(() => undefined);
  }

  /** Resolves with the store's last seq once the import is durable. */
  async commit(): Promise<number> {
    const lastSeq = await this.step({ step: 'commit' });
    this.end(lastSeq);
    return lastSeq;
  }

  /** Rolls back whatever was written (the writer already has, after a step failed). */
  async abort(): Promise<void> {
    if (this.ended) return;
    try {
      await this.step({ step: 'abort' });
    } finally {
      this.end(undefined);
    }
  }

  /** The writer's answer to the oldest step not yet answered. */
  answer(m: ImportReply): void {
    const w = this.waiting.shift();
    if (!w) return;
    if (m.ok) w.resolve(m.lastSeq);
    else w.reject(new Error(m.message));
  }

  /** The writer is gone: nothing was committed. */
  fail(err: Error): void {
    for (const w of this.waiting.splice(0)) w.reject(err);
    this.end(undefined);
  }

  private step(op: ImportOp): Promise<number> {
    if (this.ended) return Promise.reject(new Error('the import has ended'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.post({ kind: 'import', ...op });
    });
  }

  private end(lastSeq: number | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(lastSeq);
  }
}
