/**
 * Reference servers for the core benchmark, each in its own process like the bridge:
 *   bare  — node:http that reads the body and answers 201 without doing anything (the machine's ceiling)
 *   fsync — appends each event to a file and fdatasyncs it before answering, one at a time, as the
 *           original Lighthouse did: no batching, so every event pays a whole sync
 * Prints `listening <port>` on stdout.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const mode = process.argv[2];
const file = process.argv[3];
let seq = 0;

function main() {
  const fd = mode === 'fsync' ? fs.openSync(file!, 'a') : undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = () => {
        const body = JSON.stringify({ seq: ++seq });
        res.writeHead(201, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
      };
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
