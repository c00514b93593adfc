import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { Routes, type BridgeClient, type Event } from '../../../../bridge-image/protocol/index.js';
import { EventStore } from '../../../../bridge-image/src/store/event-store.js';
import {
  BRIDGE_JS,
  startBridge,
  tempDir,
  WRITER_JS,
  type BridgeProcess,
} from '../../../helpers/bridge-process.js';

const MiB = 1024 * 1024;
const running: BridgeProcess[] = [];
// Exports and stores here run to hundreds of MB: every directory (tempDir's) goes when the file is done.
afterAll(async () => {
  for (const b of running) await b.stop();
});

async function bridge(opts: Parameters<typeof startBridge>[0] = {}): Promise<BridgeProcess> {
  const b = await startBridge(opts);
  running.push(b);
  return b;
}

const dir = (): string => tempDir();

/** A field of /proc/<pid>/status in kB; undefined once the process is gone. */
function statusKb(pid: number, field: 'RssAnon' | 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Peaks of a process's resident memory, sampled until stop(). */
function sampleMemory(pid: number) {
  const peak = { anonKb: 0, hwmKb: 0 };
  const sample = () => {
    peak.anonKb = Math.max(peak.anonKb, statusKb(pid, 'RssAnon') ?? 0);
    peak.hwmKb = Math.max(peak.hwmKb, statusKb(pid, 'VmHWM') ?? 0);
  };
  sample();
  const timer = setInterval(sample, 20);
  return {
    stop() {
      sample();
      clearInterval(timer);
      return peak;
    },
  };
}

/** `bridge.js import` into `dataDir`, from a file or (`-`) from a stream piped to its stdin, as it arrives. */
async function importCli(dataDir: string, from: string | Readable) {
  const p = spawn(
    process.execPath,
    [BRIDGE_JS, 'import', '--data-dir', dataDir, '--from', typeof from === 'string' ? from : '-'],
    { stdio: [typeof from === 'string' ? 'ignore' : 'pipe', 'pipe', 'pipe'] },
  );
  const memory = sampleMemory(p.pid!);
  let stdout = '';
  let stderr = '';
  p.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  p.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  if (typeof from !== 'string') {
    // The import may stop reading at a bad line: what is left is not wanted.
    p.stdin!.on('error', () => undefined);
    from.pipe(p.stdin!);
  }
  const status = await new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
  return { status, stdout, stderr, ...memory.stop() };
}

/** Every event up to `upTo`, in seq order. */
async function eventsUpTo(c: BridgeClient, upTo: number): Promise<Event[]> {
  const out: Event[] = [];
  for (let after = 0; ;) {
    const page = await c.query({ after, before: upTo + 1, limit: 10_000 });
    out.push(...page.events);
    if (page.nextCursor === null) return out;
    after = page.nextCursor;
  }
}

/** A bridge whose store holds a blob of several chunks, a small one, and `events` events on two streams. */
async function filledBridge(events: number, blobs = [20 * MiB + 12345]) {
  const b = await bridge();
  const w = b.agent('author');
  const other = b.agent('other');
  const hashes = new Map<string, Buffer>();
  for (const size of [...blobs, 5]) {
    const data = randomBytes(size);
    hashes.set((await w.putBlob(data)).hash, data);
  }
  for (let i = 0; i * 100 < events; i++) {
    const batch = Array.from({ length: 100 }, (_, k) => ({ type: 'custom.e', data: { i, k, s: 'é\n"' } }));
    await (i % 3 === 0 ? other : w).append({ events: batch });
  }
  return { b, hashes };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const headerOf = (file: string) =>
  JSON.parse(fs.readFileSync(file, 'utf8').slice(0, 300).split('\n')[0]!) as { lastSeq: number };

function expectEmpty(dataDir: string) {
  return (async () => {
    const s = EventStore.open({ file: path.join(dataDir, 'events.db'), writerScript: WRITER_JS });
    try {
      expect(s.lastSeq).toBe(0);
      expect(s.blobCount()).toBe(0);
    } finally {
      await s.close();
    }
  })();
}

describe('streamed JSONL export and import against a real bridge', () => {
  it('round-trips a blob of many chunks and thousands of events: the same events and blobs', async () => {
    const { b, hashes } = await filledBridge(5000);
    const admin = b.admin();
    const file = path.join(dir(), 'export.jsonl');
    const bytes = await admin.exportJsonlTo(fs.createWriteStream(file));
    expect(bytes).toBe(fs.statSync(file).size);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    // Blobs as stored: no line is larger than a chunk in base64.
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(1.4 * MiB);
    const { lastSeq } = headerOf(file);
    expect(JSON.parse(lines[lines.length - 1]!)).toMatchObject({ kind: 'event', seq: lastSeq });
    const original = await eventsUpTo(admin, lastSeq);
    expect(original.length).toBeGreaterThan(5000);

    const fresh = path.join(dir(), 'fresh');
    const r = await importCli(fresh, file);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`imported ${lastSeq} events`));
    const d = await bridge({ dataDir: fresh, secret: b.secret });
    expect(await eventsUpTo(d.admin(), lastSeq)).toEqual(original);
    for (const [hash, data] of hashes) {
      const got = await d.admin().getBlob(hash);
      expect(got.length).toBe(data.length);
      expect(sha256(got)).toBe(hash);
    }
  }, 120_000);

  it('blob grants survive export and import; an old export without grant lines gets them from its shadow events', async () => {
    const b = await bridge();
    const alice = b.agent('alice');
    const bob = b.agent('bob');
    const aliceFile = Buffer.from('alice wrote this\n');
    const bobBlob = Buffer.from('bob put this\n');
    const a = await alice.writeFile('a.txt', aliceFile);
    const p = await bob.putBlob(bobBlob);
    const file = path.join(dir(), 'export.jsonl');
    await b.admin().exportJsonlTo(fs.createWriteStream(file));
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ format: 3 });
    const grants = lines.map((l) => JSON.parse(l) as { kind: string }).filter((l) => l.kind === 'grant');
    expect(grants).toEqual(
      expect.arrayContaining([
        { kind: 'grant', agentId: 'alice', hash: a.hash },
        { kind: 'grant', agentId: 'bob', hash: p.hash },
      ]),
    );

    const readers = async (d: BridgeProcess) => ({
      aliceOwn: (await d.agent('alice').getBlob(a.hash)).equals(aliceFile),
      bobOwn: await d
        .agent('bob')
        .getBlob(p.hash)
        .then(
          (x) => x.equals(bobBlob),
          (e: { status: number }) => e.status,
        ),
      bobReadsAlice: await d
        .agent('bob')
        .getBlob(a.hash)
        .then(
          () => 200,
          (e: { status: number }) => e.status,
        ),
    });
    const fresh = path.join(dir(), 'fresh');
    expect((await importCli(fresh, file)).status).toBe(0);
    expect(await readers(await bridge({ dataDir: fresh, secret: b.secret }))).toEqual({
      aliceOwn: true,
      bobOwn: true,
      bobReadsAlice: 404,
    });

    // The same export as format 2 wrote it: no grant lines. Shadow writes still say who stored what;
    // what was only PUT is for admin now.
    const old = path.join(dir(), 'old.jsonl');
    const header = { ...(JSON.parse(lines[0]!) as object), format: 2 };
    const rest = lines.slice(1).filter((l) => !l.startsWith('{"kind":"grant"'));
    fs.writeFileSync(old, [JSON.stringify(header), ...rest].join('\n') + '\n');
    const restored = path.join(dir(), 'restored');
    const r = await importCli(restored, old);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const d = await bridge({ dataDir: restored, secret: b.secret });
    expect(await readers(d)).toEqual({ aliceOwn: true, bobOwn: 404, bobReadsAlice: 404 });
    expect((await d.admin().getBlob(p.hash)).equals(bobBlob)).toBe(true);
  });

  it('a bad line in the middle of a large import is named, and the store is left empty', async () => {
    const { b } = await filledBridge(3000);
    const file = path.join(dir(), 'export.jsonl');
    await b.admin().exportJsonlTo(fs.createWriteStream(file));
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    const firstEvent = lines.findIndex((l) => l.startsWith('{"kind":"event"'));
    const middle = Math.floor((firstEvent + lines.length) / 2);
    // Caught as the line is parsed; caught in the writer, against the rows before it (the stream's
    // versions must rise); and a manifest's chunk missing, caught only once every line is in.
    const backwards = { ...(JSON.parse(lines[middle]!) as Event), streamVersion: 1 };
    const chunk = lines.findIndex(
      (l) => l.startsWith('{"kind":"blob"') && !l.includes('"size"') && l.length > 1000,
    );
    const manifest = lines.findIndex((l) => l.includes('"size"'));
    // Its line number once the chunk's line is gone.
    const manifestLine = manifest + (chunk < manifest ? 0 : 1);
    const cases: [string[], RegExp][] = [
      [lines.with(middle, '{"kind":"event","seq":'), new RegExp(`^lighthouse: line ${middle + 1}: not JSON`)],
      [
        lines.with(middle, JSON.stringify(backwards)),
        new RegExp(`^lighthouse: line ${middle + 1}: event \\d+ gives stream \\S+ version 1, not above \\d+`),
      ],
      [
        lines.filter((_, i) => i !== chunk),
        new RegExp(
          `^lighthouse: line ${manifestLine}: blob [0-9a-f]{64}: chunk \\d+ \\([0-9a-f]{64}\\) is not in the export`,
        ),
      ],
    ];
    for (const [input, message] of cases) {
      const target = path.join(dir(), 'target');
      // Piped in as it is produced: the import reads it line by line as it arrives.
      const r = await importCli(target, Readable.from(input.map((l) => `${l}\n`)));
      expect(r.stderr).toMatch(message);
      expect(r.status).toBe(2);
      await expectEmpty(target);
    }
  }, 120_000);

  it('an import killed midway leaves the store empty and sound', async () => {
    const { b } = await filledBridge(1000);
    const file = path.join(dir(), 'export.jsonl');
    await b.admin().exportJsonlTo(fs.createWriteStream(file));
    const text = fs.readFileSync(file, 'utf8');
    const target = path.join(dir(), 'target');
    const p = spawn(process.execPath, [BRIDGE_JS, 'import', '--data-dir', target, '--from', '-'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    p.stdin.on('error', () => undefined);
    // The blobs, and no event: the import cannot end, but writes their 20 MiB into its transaction.
    p.stdin.write(text.slice(0, text.indexOf('{"kind":"event"')));
    const wal = path.join(target, 'events.db-wal');
    for (let t = 0; !(fs.existsSync(wal) && fs.statSync(wal).size > 4 * MiB); t++) {
      if (t > 600) throw new Error('the import wrote nothing within 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    p.kill('SIGKILL');
    await new Promise((r) => p.on('exit', r));
    // Opening runs SQLite's quick_check: a damaged file would be refused.
    await expectEmpty(target);
  }, 120_000);

  it('a line longer than any export holds is refused as it arrives, naming it', async () => {
    const target = path.join(dir(), 'target');
    const header = JSON.stringify({ kind: 'lighthouse-export', format: 2, schemaVersion: 3, lastSeq: 0 });
    // 100 MiB without a newline, after the header: refused once it passes the limit, unread beyond.
    const endless = Readable.from(
      (function* () {
        yield `${header}\n`;
        for (let i = 0; i < 100; i++) yield Buffer.alloc(MiB, 'a');
      })(),
    );
    const r = await importCli(target, endless);
    expect(r.stderr).toMatch(/^lighthouse: line 2: longer than 100663296 bytes/);
    expect(r.status).toBe(2);
    await expectEmpty(target);
  }, 60_000);

  it('an export the client abandons midway leaves the bridge healthy and holds nothing open', async () => {
    const { b } = await filledBridge(500);
    const admin = b.admin();
    const w = b.agent('author');
    await admin.exportJsonlTo(fs.createWriteStream(path.join(dir(), 'first.jsonl')));
    const db = path.join(b.dataDir, 'events.db');
    const storeFds = () =>
      fs.readdirSync(`/proc/${b.proc.pid}/fd`).filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/${b.proc.pid}/fd/${fd}`).startsWith(db);
        } catch {
          return false;
        }
      }).length;
    const fds = storeFds();
    for (let i = 0; i < 3; i++) {
      const headers = await admin.signedHeaders('GET', Routes.exportJsonl);
      const status = await new Promise<number>((resolve) => {
        const req = http.get(new URL(Routes.exportJsonl, b.url), { headers }, (res) => {
          let got = 0;
          res.on('data', (c: Buffer) => {
            got += c.length;
            if (got > 256 * 1024) {
              req.destroy();
              resolve(res.statusCode!);
            }
          });
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', () => resolve(0));
      });
      expect(status).toBe(200);
      // Appends go on meanwhile; then nothing may hold a snapshot: a TRUNCATE checkpoint from
      // outside (which waits up to 5 s for readers) completes.
      await w.append({ events: [{ type: 'custom.after', data: { i } }] });
      const check = new Database(db);
      check.pragma('busy_timeout = 5000');
      const [cp] = check.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number }[];
      check.close();
      expect(cp).toMatchObject({ busy: 0, log: 0 });
    }
    // The export's connection was reused, not left behind once per abandoned export.
    expect(storeFds()).toBe(fds);
    expect((await admin.ready()).ready).toBe(true);
    const text = await admin.exportJsonl();
    const last = JSON.parse(text.trimEnd().split('\n').pop()!) as Event;
    expect(last.seq).toBe((JSON.parse(text.slice(0, text.indexOf('\n'))) as { lastSeq: number }).lastSeq);
    expect(b.proc.exitCode).toBe(null);
    expect(b.stderr()).not.toMatch(/"level":"error"/);
  }, 120_000);

  it('memory: exporting and importing 200 MiB of blobs grows resident memory well under that', async () => {
    const storeBytes = 10 * 20 * MiB;
    const { b: first } = await filledBridge(2000, Array(10).fill(20 * MiB) as number[]);
    expect(await first.stop()).toBe(0);
    // A bridge just started on the store, so that its peak is the export's.
    const b = await bridge({ dataDir: first.dataDir, secret: first.secret });
    const admin = b.admin();
    await admin.status();
    const before = statusKb(b.proc.pid!, 'RssAnon')!;
    const exportMemory = sampleMemory(b.proc.pid!);
    const file = path.join(dir(), 'export.jsonl');
    const bytes = await admin.exportJsonlTo(fs.createWriteStream(file));
    const exp = exportMemory.stop();

    // The same command importing an export with no rows: what the process takes anyway.
    const empty = path.join(dir(), 'empty.jsonl');
    fs.writeFileSync(
      empty,
      `${JSON.stringify({ kind: 'lighthouse-export', format: 2, schemaVersion: 3, lastSeq: 0 })}\n`,
    );
    const idle = await importCli(path.join(dir(), 'idle'), empty);
    const imp = await importCli(path.join(dir(), 'fresh'), file);
    expect(imp.status).toBe(0);

    const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;
    console.log(
      `export of ${mb(bytes / 1024)}: bridge RssAnon ${mb(before)} -> peak ${mb(exp.anonKb)} (VmHWM ${mb(exp.hwmKb)}); ` +
        `import: peak RssAnon ${mb(imp.anonKb)} (VmHWM ${mb(imp.hwmKb)}), with nothing to import ${mb(idle.anonKb)} (VmHWM ${mb(idle.hwmKb)})`,
    );
    // Generous: growth is about half the store's blobs here, and does not grow with them; holding
    // the export or the store in memory would not stay under this bound.
    expect((exp.anonKb - before) * 1024).toBeLessThan(storeBytes);
    expect((imp.anonKb - idle.anonKb) * 1024).toBeLessThan(storeBytes);
  }, 180_000);
});
