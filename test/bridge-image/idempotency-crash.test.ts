import { describe, expect, it } from 'vitest';
import {
  BridgeError,
  ErrorCode,
  Headers,
  type BridgeClient,
  type CallOptions,
} from '../../bridge-image/protocol/index.js';
import { bridgesKilledAfterEach, tempDir, type BridgeProcess } from '../helpers/bridge-process.js';

const start = bridgesKilledAfterEach();

/** A write route, and how the effect of one request (named by its marker) shows in the event log. */
interface Kind {
  name: string;
  method: string;
  path: string;
  call: (marker: string) => CallOptions;
  type: string;
  /** What an event of `type` carries that names its request's marker. */
  effect: (data: Record<string, unknown>) => unknown;
  expected: (marker: string) => unknown;
}

const KINDS: Kind[] = [
  {
    name: 'send a message',
    method: 'POST',
    path: '/v1/messages',
    call: (m) => ({ body: { to: ['peer'], body: m } }),
    type: 'message.sent',
    effect: (d) => d.body,
    expected: (m) => m,
  },
  {
    name: 'dispatch a task',
    method: 'POST',
    path: '/v1/tasks',
    call: (m) => ({ body: { to: 'peer', title: m } }),
    type: 'task.dispatched',
    effect: (d) => d.title,
    expected: (m) => m,
  },
  {
    name: 'add an annotation',
    method: 'POST',
    path: '/v1/annotations',
    call: (m) => ({ body: { path: 'src/a.ts', note: m } }),
    type: 'annotation.added',
    effect: (d) => d.note,
    expected: (m) => m,
  },
  {
    name: 'acquire a lease',
    method: 'POST',
    path: '/v1/leases',
    call: (m) => ({ body: { globs: [`leased/${m}`], mode: 'shared', ttlMs: 600_000 } }),
    type: 'lease.acquired',
    effect: (d) => (d.globs as string[])[0],
    expected: (m) => `leased/${m}`,
  },
  {
    name: 'write a shadow file',
    method: 'PUT',
    path: '/v1/shadow/file',
    call: (m) => ({
      query: { path: `shadow/${m}.txt` },
      rawBody: Buffer.from(m),
      contentType: 'application/octet-stream',
    }),
    type: 'shadow.written',
    effect: (d) => d.path,
    expected: (m) => `shadow/${m}.txt`,
  },
];

interface Write {
  kind: Kind;
  agent: string;
  marker: string;
  key: string;
  /** The reply the first attempt got, if it got one before the bridge died. */
  first?: unknown;
}

const AGENTS = ['crash-a', 'crash-b', 'crash-c', 'crash-d'];
const WORKERS = 48;

/** Workers sending keyed writes of every kind until the bridge goes away. */
function load(b: BridgeProcess, round: number) {
  const clients = AGENTS.map((a) => b.agent(a));
  const writes: Write[] = [];
  let answered = 0;
  const loops = Array.from({ length: WORKERS }, async (_, w) => {
    const c = clients[w % clients.length]!;
    for (let i = 0; ; i++) {
      const kind = KINDS[(w + i) % KINDS.length]!;
      const marker = `r${round}-w${w}-${i}`;
      const write: Write = { kind, agent: c.agentId, marker, key: `key-${marker}` };
      writes.push(write);
      try {
        const r = await c.callRaw(kind.method, kind.path, {
          ...kind.call(marker),
          idempotencyKey: write.key,
        });
        write.first = JSON.parse(r.body.toString()) as unknown;
        answered++;
      } catch {
        return; // the bridge is gone
      }
    }
  });
  return { writes, answered: () => answered, done: Promise.all(loops) };
}

async function countEffects(admin: BridgeClient, kind: Kind): Promise<Map<unknown, number>> {
  const counts = new Map<unknown, number>();
  let after = 0;
  for (;;) {
    const page = await admin.query({ type: kind.type, after, limit: 5000 });
    for (const e of page.events) {
      const id = kind.effect(e.data as Record<string, unknown>);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    if (page.nextCursor === null) return counts;
    after = page.nextCursor;
  }
}

/** Runs `fn` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

describe('keyed writes across a crash', () => {
  it(
    'carries every keyed write out exactly once when the bridge is SIGKILLed between its commit and its reply',
    { timeout: 180_000 },
    async () => {
      let lost = 0;
      // Each round kills a bridge under load; rounds go on until a kill has landed inside the window
      // (a write committed, its reply not yet kept) at least once.
      for (let round = 0; round < 6 && lost === 0; round++) {
        const dataDir = `${tempDir()}/data`;
        const a = await start({ dataDir });
        const l = load(a, round);
        const until = Date.now() + 5000;
        while (l.answered() < 300 + round * 200 && Date.now() < until)
          await new Promise((r) => setTimeout(r, 10));
        a.proc.kill('SIGKILL');
        await a.exited;
        await l.done;

        const b = await start({ dataDir, secret: a.secret });
        const clients = new Map(AGENTS.map((id) => [id, b.agent(id)]));
        await pool(l.writes, 16, async (w) => {
          const opts = { ...w.kind.call(w.marker), idempotencyKey: w.key };
          try {
            const r = await clients.get(w.agent)!.callRaw(w.kind.method, w.kind.path, opts);
            if (w.first !== undefined) {
              expect(JSON.parse(r.body.toString()), `${w.kind.name} ${w.marker}`).toEqual(w.first);
              expect(r.headers[Headers.idempotentReplay]).toBe('true');
            }
          } catch (e) {
            if (!(e instanceof BridgeError) || e.code !== ErrorCode.replyLost) throw e;
            // A kept reply is sent only after it is kept: an answered write can never be lost.
            expect(w.first, `${w.kind.name} ${w.marker} was answered`).toBeUndefined();
            lost++;
          }
        });

        const admin = b.admin();
        const notOnce: string[] = [];
        for (const kind of KINDS) {
          const counts = await countEffects(admin, kind);
          for (const w of l.writes.filter((x) => x.kind === kind)) {
            const n = counts.get(kind.expected(w.marker)) ?? 0;
            if (n !== 1) notOnce.push(`${kind.name} ${w.marker}: carried out ${n} times`);
          }
        }
        expect(notOnce).toEqual([]);
        await b.stop('SIGKILL');
      }
      expect(lost, 'no kill landed between a write and its reply').toBeGreaterThan(0);
    },
  );
});
