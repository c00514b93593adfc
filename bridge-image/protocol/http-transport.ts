import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { BridgeError, ErrorBody } from './errors.js';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RawRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
  agent: http.Agent;
}

/** One HTTP exchange, with a deadline and cancellation; transport failures become BridgeErrors. */
export function sendRaw(req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    if (req.signal?.aborted) {
      reject(new BridgeError(0, 'cancelled', 'the request was cancelled before it was sent'));
      return;
    }
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body) headers['content-length'] = req.body.length;
    const r = http.request(req.url, { method: req.method, headers, agent: req.agent });
    const timer = setTimeout(() => {
      r.destroy(
        new BridgeError(
          0,
          'timeout',
          `the bridge at ${req.url.origin} did not answer ${req.method} ${req.url.pathname} within ${req.timeoutMs} ms`,
        ),
      );
    }, req.timeoutMs);
    const onAbort = () =>
      r.destroy(new BridgeError(0, 'cancelled', `${req.method} ${req.url.pathname} was cancelled`));
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    };
    r.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        done();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', (e) => {
        done();
        reject(e);
      });
    });
    r.on('error', (e: NodeJS.ErrnoException) => {
      done();
      if (e instanceof BridgeError) reject(e);
      else
        reject(
          new BridgeError(
            0,
            'unreachable',
            `the bridge at ${req.url.origin} is unreachable (${e.code ?? e.message}); is it running?`,
          ),
        );
    });
    r.end(req.body);
  });
}

/**
 * A GET whose answer, when 2xx, is piped into `out` as it arrives (and `out` ended), at the pace
 * `out` takes it; resolves with its size in bytes. Any other answer is read whole and rejected as
 * a BridgeError, with nothing written to `out`. `timeoutMs` is how long the bridge may send nothing.
 */
export function receiveRaw(
  req: Omit<RawRequest, 'method' | 'body'>,
  out: NodeJS.WritableStream,
): Promise<number> {
  return new Promise((resolve, reject) => {
    if (req.signal?.aborted) {
      reject(new BridgeError(0, 'cancelled', 'the request was cancelled before it was sent'));
      return;
    }
    const r = http.request(req.url, { method: 'GET', headers: req.headers, agent: req.agent });
    r.setTimeout(req.timeoutMs, () =>
      r.destroy(
        new BridgeError(0, 'timeout', `the bridge at ${req.url.origin} sent nothing for ${req.timeoutMs} ms`),
      ),
    );
    const onAbort = () => r.destroy(new BridgeError(0, 'cancelled', `GET ${req.url.pathname} was cancelled`));
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => req.signal?.removeEventListener('abort', onAbort);
    r.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          done();
          reject(errorFromResponse({ status, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        return;
      }
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      // An answer cut short (the bridge stopped, or gave up on a stalled reader) rejects here.
      pipeline(res, out).then(
        () => {
          done();
          resolve(bytes);
        },
        (e: Error) => {
          done();
          reject(e);
        },
      );
    });
    r.on('error', (e: NodeJS.ErrnoException) => {
      done();
      reject(
        e instanceof BridgeError
          ? e
          : new BridgeError(
              0,
              'unreachable',
              `the bridge at ${req.url.origin} is unreachable (${e.code ?? e.message})`,
            ),
      );
    });
    r.end();
  });
}

/** Turns a non-2xx answer into a BridgeError carrying the bridge's code, message and details. */
export function errorFromResponse(res: RawResponse): BridgeError {
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(res.body.toString('utf8')));
    if (parsed.success) {
      const { code, message, details } = parsed.data.error;
      return new BridgeError(res.status, code, message, details);
    }
  } catch {
    // fall through: not a JSON error body
  }
  return new BridgeError(
    res.status,
    'http_error',
    `HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`,
  );
}
