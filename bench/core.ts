import { createHmac, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { Headers, deriveAgentKey, deriveSessionKey, signRequest } from '../bridge-image/protocol/index.js';
import { Authenticator, fingerprintOf } from '../bridge-image/src/auth/authenticator.js';
import { SessionManager } from '../bridge-image/src/auth/sessions.js';
import type { LoadConfig } from './lib/loadgen.js';
import {
  median,
  rssBytes,
  runLoad,
  startBaseline,
  startBridgeProcess,
  type Server,
} from './lib/processes.js';
import { atLeast, atMost, info, relative, type BenchResult } from './lib/report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);

/** Requests per second against a server, the median of ROUNDS runs. */
async function throughput(
  server: Server,
  cfg: Omit<LoadConfig, 'port' | 'warmupMs' | 'durationMs'>,
): Promise<number> {
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const res = await runLoad({ ...cfg, port: server.port, warmupMs: 500, durationMs: DURATION_MS });
    if (res.errors > 0)
      throw new Error(`load against port ${server.port} had ${res.errors} errors; first: ${res.firstError}`);
    rates.push(res.requests / res.seconds);
  }
  return median(rates);
}

async function withServer<T>(start: () => Promise<Server>, fn: (s: Server) => Promise<T>): Promise<T> {
  const s = await start();
  try {
    return await fn(s);
  } finally {
    await s.stop();
  }
}

/** Server-side cost of checking one signed request: session lookup, HMAC, nonce, fingerprint, rate. */
function signatureVerification(n = 50_000): { perRequestUs: number; hmacUs: number } {
  const master = Buffer.alloc(32, 7);
  const sessions = new SessionManager(master, {
    ttlMs: 3.6e6,
    idleMs: 3.6e6,
    ratePerSecond: 1e9,
    burst: 1e9,
  });
  const auth = new Authenticator(sessions, () => undefined);
  const headers = { [Headers.client]: 'bench', 'user-agent': 'bench' };
  const s = sessions.open('bench', 'agent', [], fingerprintOf(headers));
  const key = deriveSessionKey(deriveAgentKey(master, 'bench'), s.id);
  const body = Buffer.from(JSON.stringify({ events: [{ type: 'custom.bench', data: { i: 1 } }] }));
  const reqs = Array.from({ length: n }, () => ({
    method: 'POST',
    url: '/v1/events',
    headers: { ...headers, ...signRequest(key, 'POST', '/v1/events', body), [Headers.session]: s.id },
    body,
  }));
  const warm = n / 10;
  for (let i = 0; i < warm; i++) auth.verify(reqs[i]!);
  const t0 = process.hrtime.bigint();
  for (let i = warm; i < n; i++) auth.verify(reqs[i]!);
  const perRequestUs = Number(process.hrtime.bigint() - t0) / 1000 / (n - warm);
  // Reference: one bare HMAC-SHA256 of a canonical string, the floor of any signature check.
  const canonical = `LH1\nPOST\n/v1/events\n${Date.now()}\n${'a'.repeat(32)}\n${'b'.repeat(64)}`;
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) createHmac('sha256', key).update(canonical).digest();
  const hmacUs = Number(process.hrtime.bigint() - t1) / 1000 / n;
  return { perRequestUs, hmacUs };
}

async function idleRss(): Promise<{ bridge: number; bareNode: number }> {
  const bridge = await startBridgeProcess();
  await new Promise((r) => setTimeout(r, 2000));
  const b = rssBytes(bridge.proc.pid!);
  await bridge.stop();
  const node = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1000));
  const n = rssBytes(node.pid!);
  node.kill();
  return { bridge: b, bareNode: n };
}

export async function coreSuite(): Promise<BenchResult[]> {
  const base = { connections: 64, path: '/v1/events', batch: 1, signed: null };
  // The baselines get the same signed requests as the bridge, byte for byte (they ignore the headers).
  const secretHex = randomBytes(32).toString('hex');
  const unchecked = { ...base, signed: { secretHex, unchecked: true } };
  console.error('core: bare node:http baseline');
  const bare = await withServer(
    () => startBaseline('bare'),
    (s) => throughput(s, unchecked),
  );
  console.error('core: file + fdatasync per event baseline');
  const fsync = await withServer(
    () => startBaseline('fsync'),
    (s) => throughput(s, unchecked),
  );
  console.error('core: floor (signature + replay check + JSON + writer-thread hop, nothing stored)');
  const floor = await withServer(
    () => startBaseline('floor', secretHex),
    (s) => throughput(s, unchecked),
  );
  console.error('core: bridge, single-event durable appends');
  const single = await withServer(startBridgeProcess, (s) =>
    throughput(s, {
      ...base,
      signed: { secretHex: (s as Server & { secret: Buffer }).secret.toString('hex') },
    }),
  );
  // The same 64 writers as agents run them (the protocol's client, signing as it sends): on two
  // cores the clients then take most of the CPU, so this row shows what a real client sees, not
  // the servers' ceiling.
  console.error("core: 64 writers with Lighthouse's own client, bare node:http and the bridge");
  const clientBare = await withServer(
    () => startBaseline('bare'),
    (s) => throughput(s, { ...unchecked, client: 'lighthouse' }),
  );
  const clientBridge = await withServer(startBridgeProcess, (s) =>
    throughput(s, {
      ...base,
      client: 'lighthouse',
      signed: { secretHex: (s as Server & { secret: Buffer }).secret.toString('hex') },
    }),
  );
  console.error('core: bridge, 100 events per request');
  const batched = await withServer(startBridgeProcess, (s) =>
    throughput(s, {
      ...base,
      connections: 16,
      batch: 100,
      signed: { secretHex: (s as Server & { secret: Buffer }).secret.toString('hex') },
    }),
  );
  console.error('core: signature verification');
  const sig = signatureVerification();
  console.error('core: idle memory');
  const rss = await idleRss();
  const MB = 1024 * 1024;
  return [
    relative(
      'durable appends/s, 64 signed writers, vs bare node:http',
      single,
      'req/s',
      bare,
      0.6,
      'bare node:http',
    ),
    info('floor: signed check + JSON + writer-thread hop, nothing stored', floor, 'req/s', bare),
    info(
      "durable appends/s, 64 writers with Lighthouse's own client, vs bare node:http with the same",
      clientBridge,
      'req/s',
      clientBare,
    ),
    relative(
      'durable appends/s, 64 signed writers, vs file+fdatasync',
      single,
      'req/s',
      fsync,
      4,
      'file+fdatasync per event',
    ),
    atLeast('batched appends (100/request)', batched * 100, 'events/s', 150_000),
    atMost('signature verification per request', sig.perRequestUs, 'us', 20, sig.hmacUs),
    atMost('bridge RSS when idle', rss.bridge / MB, 'MB', 80, rss.bareNode / MB),
  ];
}
