/**
 * A lean HTTP/1.1 load generator, run in its own process so that it never shares an event loop
 * with the server it measures. Raw keep-alive sockets and pre-split requests: node:http's client
 * would be the bottleneck long before the server is. Each connection is one writer that waits for
 * its answer before sending the next request.
 *
 * Requests are built (and, against the bridge, signed) before the clock starts, so that the client's
 * own hashing does not eat the CPU the server is measured on: two cores are shared by both. Each
 * request still has its own nonce and a timestamp taken when it was built, well inside the bridge's
 * ±30 s window, and the bridge verifies every signature as usual. A writer that runs out of
 * pre-built requests builds the rest on the fly.
 *
 * With `client: 'lighthouse'` each writer is what an agent runs instead: the protocol's own HTTP
 * transport (node:http, a keep-alive agent per writer), signing each request as it sends it.
 *
 * Input (argv[2], JSON): LoadConfig. Output (stdout, JSON): LoadResult.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import {
  BridgeClient,
  Headers,
  deriveAgentKey,
  requestHeaders,
  signRequest,
} from '../../bridge-image/protocol/index.js';
import { sendRaw } from '../../bridge-image/protocol/http-transport.js';
import { uncheckedSessionId, uncheckedSessionKey } from './unchecked-sessions.js';

export interface LoadConfig {
  port: number;
  connections: number;
  warmupMs: number;
  durationMs: number;
  path: string;
  /** Events per request. */
  batch: number;
  /**
   * Sign requests with one session per connection: sessions opened on the bridge, or (`unchecked`)
   * made up from the secret for a baseline server, which then gets the very same bytes. null: plain.
   */
  signed: { secretHex: string; unchecked?: boolean } | null;
  /** Bytes of requests built ahead, over all connections (default 64 MiB, at most 4000 each). */
  prebuildBytes?: number;
  /** 'lean' (default): the raw sockets above; 'lighthouse': the protocol's own client (signed only). */
  client?: 'lean' | 'lighthouse';
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  firstError: string | null;
}

function bodyFor(w: number, i: number, batch: number): string {
  const events = [];
  for (let k = 0; k < batch; k++) events.push({ type: 'custom.bench', data: { w, i, k } });
  return JSON.stringify({ events });
}

const EMPTY = Buffer.alloc(0);

async function main(cfg: LoadConfig): Promise<LoadResult> {
  const sessions: { id: string; key: Buffer; client: string; ua: string }[] = [];
  if (cfg.signed?.unchecked) {
    const secret = Buffer.from(cfg.signed.secretHex, 'hex');
    for (let w = 0; w < cfg.connections; w++) {
      const id = uncheckedSessionId(w);
      const client = randomBytes(12).toString('hex');
      sessions.push({ id, key: uncheckedSessionKey(secret, id), client, ua: 'lighthouse-client/0.1' });
    }
  } else if (cfg.signed) {
    const secret = Buffer.from(cfg.signed.secretHex, 'hex');
    for (let w = 0; w < cfg.connections; w++) {
      const agentId = `bench-${w}`;
      const c = new BridgeClient({
        baseUrl: `http://127.0.0.1:${cfg.port}`,
        agentId,
        key: deriveAgentKey(secret, agentId),
      });
      const s = await c.session();
      sessions.push({ id: s.info.sessionId, key: s.key, client: c.clientId, ua: 'lighthouse-client/0.1' });
    }
  }
  /** One whole request (head and body) as bytes: what a writer sends as its i-th request. */
  const build = (w: number, i: number): Buffer => {
    const body = bodyFor(w, i, cfg.batch);
    let head = `POST ${cfg.path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
    const s = sessions[w];
    if (s) {
      const h = signRequest(s.key, 'POST', cfg.path, body);
      head +=
        `${Headers.session}: ${s.id}\r\n${Headers.client}: ${s.client}\r\nuser-agent: ${s.ua}\r\n` +
        `${Headers.timestamp}: ${h[Headers.timestamp]}\r\n${Headers.nonce}: ${h[Headers.nonce]}\r\n` +
        `${Headers.signature}: ${h[Headers.signature]}\r\n`;
    }
    return Buffer.from(head + '\r\n' + body);
  };
  const lean = cfg.client !== 'lighthouse';
  if (!lean && sessions.length === 0) throw new Error("client 'lighthouse' needs signed requests");
  const perConnection = lean
    ? Math.min(
        4000,
        Math.floor((cfg.prebuildBytes ?? 64 * 1024 * 1024) / (build(0, 0).length * cfg.connections)),
      )
    : 0;
  const pools = Array.from({ length: cfg.connections }, (_, w) =>
    Array.from({ length: perConnection }, (_, i) => build(w, i)),
  );
  let counting = false;
  let stop = false;
  let requests = 0;
  let errors = 0;
  let firstError: string | null = null;

  /** A writer as an agent's client is one: build, sign and send each request, then read the answer. */
  const clientWriter = async (w: number) => {
    const s = sessions[w]!;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(`http://127.0.0.1:${cfg.port}${cfg.path}`);
    for (let i = 0; !stop; i++) {
      const body = Buffer.from(bodyFor(w, i, cfg.batch));
      const res = await sendRaw({
        method: 'POST',
        url,
        headers: requestHeaders(s.key, 'POST', cfg.path, body, s.client, s.ua, { [Headers.session]: s.id }),
        body,
        timeoutMs: 15_000,
        agent,
      });
      if (res.status < 200 || res.status >= 300) {
        errors++;
        firstError ??= `HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`;
      } else if (counting) requests++;
    }
    agent.destroy();
  };

  const writer = (w: number) =>
    new Promise<void>((resolve, reject) => {
      const sock = net.connect(cfg.port, '127.0.0.1');
      sock.setNoDelay(true);
      let i = 0;
      let buf: Buffer = Buffer.alloc(0);
      const pool = pools[w]!;
      const send = () => {
        if (stop) {
          sock.end();
          resolve();
          return;
        }
        const k = i++;
        sock.write(k < pool.length ? pool[k]! : build(w, k));
        if (k < pool.length) pool[k] = EMPTY;
      };
      sock.on('connect', send);
      sock.on('data', (chunk: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1');
          const m = /content-length:\s*(\d+)/i.exec(head);
          const len = m ? Number(m[1]) : 0;
          if (buf.length < end + 4 + len) return;
          const status = Number(head.slice(9, 12));
          if (status < 200 || status >= 300) {
            errors++;
            firstError ??= `HTTP ${status}: ${buf
              .subarray(end + 4, end + 4 + len)
              .toString('utf8')
              .slice(0, 200)}`;
          } else if (counting) requests++;
          buf = buf.subarray(end + 4 + len);
          send();
        }
      });
      sock.on('error', reject);
    });

  const all = Array.from({ length: cfg.connections }, (_, w) => (lean ? writer(w) : clientWriter(w)));
  await new Promise((r) => setTimeout(r, cfg.warmupMs));
  counting = true;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, cfg.durationMs));
  counting = false;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  stop = true;
  await Promise.all(all);
  return { requests, errors, seconds, firstError };
}

main(JSON.parse(process.argv[2]!) as LoadConfig).then(
  (r) => {
    process.stdout.write(JSON.stringify(r));
    process.exit(0);
  },
  (e: unknown) => {
    process.stderr.write(`loadgen: ${String(e)}\n`);
    process.exit(1);
  },
);
