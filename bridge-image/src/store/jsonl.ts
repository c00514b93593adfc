import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Event } from '../../protocol/index.js';
import type { EventStore } from './event-store.js';

const Header = z.object({
  kind: z.literal('lighthouse-export'),
  format: z.literal(1),
  schemaVersion: z.number().int(),
  lastSeq: z.number().int(),
});
const BlobLine = z.object({
  kind: z.literal('blob'),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  data: z.base64(),
});
const EventLine = Event.extend({ kind: z.literal('event') });

/** Export: a header line, then every blob, then every event in seq order. */
export function* exportJsonl(store: EventStore): Generator<string> {
  const lastSeq = store.lastSeq;
  yield (
    JSON.stringify({ kind: 'lighthouse-export', format: 1, schemaVersion: store.schemaVersion, lastSeq }) +
    '\n'
  );
  for (const b of store.iterateBlobs())
    yield JSON.stringify({ kind: 'blob', hash: b.hash, data: b.data.toString('base64') }) + '\n';
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
  const blobs: Buffer[] = [];
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
      const data = Buffer.from(b.data.data, 'base64');
      if (createHash('sha256').update(data).digest('hex') !== b.data.hash) {
        throw new ImportError(`line ${n}: blob ${b.data.hash} does not match its content`);
      }
      blobs.push(data);
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
  try {
    await store.importRows(events, blobs);
  } catch (e) {
    throw new ImportError((e as Error).message);
  }
  return { events: events.length, blobs: blobs.length };
}
