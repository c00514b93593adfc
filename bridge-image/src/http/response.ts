import type { ServerResponse } from 'node:http';
import { Headers } from '../../protocol/index.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Answers with a JSON body: the status, every header and the body in one writeHead and one end, the
 * headers as a flat list (node:http takes it as it is, with no header object to build or check).
 * `extra` is more header names and values, alternating.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  reqId: string,
  extra?: readonly string[],
): void {
  const payload = JSON.stringify(body);
  const headers = [
    'content-type',
    JSON_TYPE,
    'content-length',
    String(Buffer.byteLength(payload)),
    'cache-control',
    'no-store',
    Headers.requestId,
    reqId,
  ];
  if (extra) for (const h of extra) headers.push(h);
  res.writeHead(status, headers);
  res.end(payload);
}
