// The container's health check (the image has no curl): healthy when the bridge's /ready answers
// 200, i.e. the store is open and migrated (and FUSE mounted when enabled). What it prints ends
// up in `docker inspect`'s health log.
import http from 'node:http';

const port = Number(process.env.LIGHTHOUSE_PORT || 8765);
const fail = (why) => {
  console.log(`not ready: ${why}`);
  process.exit(1);
};
http
  .get({ host: '127.0.0.1', port, path: '/ready', timeout: 2500 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (body += c));
    res.on('end', () => {
      if (res.statusCode === 200) process.exit(0);
      fail(`/ready answered ${res.statusCode} ${body.slice(0, 400)}`);
    });
  })
  .on('timeout', () => fail(`no answer from 127.0.0.1:${port} within 2.5 s`))
  .on('error', (e) => fail(`${e.code ?? e.message} on 127.0.0.1:${port}`));
