import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardUpgrade } from '../../../bridge-image/src/http/socket-guards.js';
import { createLogger } from '../../../bridge-image/src/log.js';
import { startBridge, type BridgeProcess } from '../../helpers/bridge-process.js';

/** Sends `request` on a fresh connection; resolves with everything the server wrote before closing. */
function rawExchange(port: number, request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    s.on('error', reject);
    s.setTimeout(10_000, () => reject(new Error('no answer and no close within 10 s')));
    s.write(request);
  });
}

const upgrade = (target: string) =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

let b: BridgeProcess;
beforeAll(async () => {
  b = await startBridge();
});
afterAll(async () => {
  expect(await b.stop()).toBe(0);
});

async function stillServes() {
  expect(b.proc.exitCode).toBeNull();
  expect((await b.admin().health()).status).toBe('ok');
}

describe('hostile connections against a real bridge', () => {
  it('an upgrade request for "//[" (which new URL() throws on) is answered 404 and the bridge keeps running', async () => {
    const answer = await rawExchange(b.port, upgrade('//['));
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    expect(answer).toContain('"code":"not_found"');
    expect(answer).toContain('no WebSocket endpoint at //[');
    await stillServes();
  });

  it('upgrade requests reset by the client right after sending (refused ones, and /v1/stream) do not end the process', async () => {
    // Before: a reset arriving while or after the refusal was written raised 'error' on a socket
    // node:http had handed over without a listener, an uncaught exception.
    for (let i = 0; i < 60; i++) {
      await new Promise<void>((resolve) => {
        const s = net.connect(b.port, '127.0.0.1', () => {
          s.write(upgrade(i % 2 ? '/v1/stream' : '/nowhere'));
          setTimeout(() => {
            s.resetAndDestroy();
            resolve();
          }, i % 4);
        });
        s.on('error', () => resolve());
      });
    }
    await new Promise((r) => setTimeout(r, 200));
    await stillServes();
  });

  it('a refused upgrade is answered and its connection closed even when the client keeps its side open', async () => {
    // A client that never closes (allowHalfOpen) would otherwise hold the socket, which node:http
    // no longer times out once it was handed to the upgrade, for as long as it likes.
    const s = net.connect({ port: b.port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    const failed = new Promise<NodeJS.ErrnoException>((resolve) => s.on('error', resolve));
    await new Promise((r) => s.once('connect', r));
    s.write(upgrade('/v1/stream'));
    await new Promise((r) => s.once('end', r));
    expect(Buffer.concat(chunks).toString('latin1')).toMatch(/^HTTP\/1\.1 401 /);
    // The bridge closed its side only (half-open) or the whole socket: writing finds out which.
    const poke = setInterval(() => s.write('still here?'), 20);
    const err = await failed;
    clearInterval(poke);
    expect(['EPIPE', 'ECONNRESET']).toContain(err.code);
    s.destroy();
    await stillServes();
  });

  it('requests the HTTP parser refuses are answered 400 or 431 and closed', async () => {
    expect(await rawExchange(b.port, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 400 /,
    );
    expect(await rawExchange(b.port, 'NOT A REQUEST\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await rawExchange(b.port, Buffer.from('GET /\0 HTTP/1.1\r\n\r\n'))).toMatch(/^HTTP\/1\.1 400 /);
    const huge = `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`;
    expect(await rawExchange(b.port, huge)).toMatch(/^HTTP\/1\.1 431 /);
    await stillServes();
  });
});

describe('guardUpgrade', () => {
  let server: http.Server;
  let port: number;
  const logged: string[] = [];
  beforeAll(async () => {
    const log = createLogger('error', {}, (line) => logged.push(line));
    server = http.createServer((_req, res) => res.end('ok'));
    server.on(
      'upgrade',
      guardUpgrade(log, () => {
        throw new Error('handler bug');
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('an upgrade handler that throws drops that connection, logs it, and the process goes on', async () => {
    // Without the guard the throw escapes node:http's parser callback: an uncaught exception in
    // this test process, which vitest reports as a failure.
    expect(await rawExchange(port, upgrade('/x'))).toBe('');
    expect(logged.join('\n')).toContain('handler bug');
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).toBe('ok');
  });
});
