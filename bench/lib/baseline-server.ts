/**
 * Reference servers for the core benchmark, each in its own process like the bridge:
 *   bare  — node:http that reads the body and answers 201 without doing anything (the machine's ceiling)
 *   fsync — appends each event to a file and fdatasyncs it before answering, one at a time, as the
 *           original Lighthouse did: no batching, so every event pays a whole sync
 *   floor — the least a signed, durable-by-hand-off append can cost in Node, storing nothing: the
 *           bridge's own signature and replay checks, JSON.parse, and a round trip through a worker
 *           thread that numbers the events in batches (where the bridge's writer would commit them)
 * argv: mode, file (fsync), master secret in hex (floor: the load generator's unchecked sessions).
 * Prints `listening <port>` on stdout.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import {
  Headers,
  HmacKey,
  SIGNATURE_WINDOW_MS,
  bodyHash,
  canonicalString,
  verifySignature,
} from '../../bridge-image/protocol/index.js';
import { NonceCache } from '../../bridge-image/src/auth/nonce-cache.js';
import { uncheckedSessionKey } from './unchecked-sessions.js';

const mode = process.argv[2];
const file = process.argv[3];
let seq = 0;

const WRITER = `
const { parentPort } = require('node:worker_threads');
let seq = 0, pending = [], scheduled = false;
parentPort.on('message', (m) => {
  pending.push(m);
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    parentPort.postMessage(pending.map((b) => ({ id: b.id, first: (seq += b.n) - b.n + 1 })));
    pending = [];
  });
});`;

/** The floor's hand-off: appends queue per turn of the loop and go to the worker as one message. */
function writerHop(): (n: number, done: (first: number) => void) => void {
  const worker = new Worker(WRITER, { eval: true });
  const waiting = new Map<number, ((first: number) => void)[]>();
  let queue: { n: number; done: (first: number) => void }[] = [];
  let nextId = 0;
  worker.on('message', (batches: { id: number; first: number }[]) => {
    for (const b of batches) {
      let first = b.first;
      for (const done of waiting.get(b.id)!) done(first++);
      waiting.delete(b.id);
    }
  });
  return (n, done) => {
    queue.push({ n, done });
    if (queue.length > 1) return;
    setImmediate(() => {
      const id = ++nextId;
      waiting.set(
        id,
        queue.map((q) => q.done),
      );
      worker.postMessage({ id, n: queue.reduce((a, q) => a + q.n, 0) });
      queue = [];
    });
  };
}

function main() {
  const fd = mode === 'fsync' ? fs.openSync(file!, 'a') : undefined;
  const secret = mode === 'floor' ? Buffer.from(process.argv[4]!, 'hex') : undefined;
  const keys = new Map<string, HmacKey>();
  const nonces = new NonceCache(SIGNATURE_WINDOW_MS, 1_000_000);
  const hop = mode === 'floor' ? writerHop() : undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (status = 201, body = JSON.stringify({ seq: ++seq })) => {
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
      };
      if (secret && hop) {
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const h = req.headers;
        const sessionId = h[Headers.session] as string;
        let key = keys.get(sessionId);
        if (!key) keys.set(sessionId, (key = new HmacKey(uncheckedSessionKey(secret, sessionId))));
        const ts = h[Headers.timestamp] as string;
        const nonce = h[Headers.nonce] as string;
        const now = Date.now();
        const canonical = canonicalString(req.method!, req.url!, ts, nonce, bodyHash(body));
        if (
          Math.abs(now - Number(ts)) > SIGNATURE_WINDOW_MS ||
          !verifySignature(key, canonical, h[Headers.signature] as string) ||
          nonces.check(`${sessionId}:${nonce}`, Number(ts), now) !== 'ok'
        ) {
          return answer(401, '{"error":"bad signature"}');
        }
        const events = (JSON.parse(body.toString('utf8')) as { events: unknown[] }).events;
        hop(events.length, (first) => answer(201, JSON.stringify({ seq: first })));
        return;
      }
      if (fd === undefined) return answer();
      fs.writeSync(fd, Buffer.concat([...chunks, Buffer.from('\n')]));
      fs.fdatasyncSync(fd);
      answer();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () =>
    process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`),
  );
  process.on('SIGTERM', () => process.exit(0));
}

main();
