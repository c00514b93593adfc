/**
 * `npm run bench -- container`: the bridge image on a real Docker engine. Start-up is timed from
 * `docker run` to the first 200 from /ready on the published port (127.0.0.1), against a `docker
 * run` of the bare base image running `node -e 0` in the same run; each figure is a median.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  baseImage,
  buildImage,
  docker,
  dockerOk,
  engineUnavailable,
  freePort,
  uniqueName,
} from '../test/helpers/docker.js';
import { median, tempDir } from './lib/processes.js';
import { atMost, info, relativeAtMost, type BenchResult } from './lib/report.js';

const ROUNDS = Number(process.env.BENCH_CONTAINER_ROUNDS ?? 7);
const IMAGE = 'lighthouse-bridge:bench';
const MB = 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls GET /ready until it answers 200; returns when it did. Each attempt gets 250 ms: a connection
 * made while the engine is still wiring the container's network can lose its SYN and would
 * otherwise wait out TCP's 1 s retransmission.
 */
async function pollReady(port: number, timeoutMs = 30_000): Promise<void> {
  const t0 = performance.now();
  const once = () =>
    new Promise<number | string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/ready', agent: false, timeout: 250 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.on('timeout', () => req.destroy(new Error('attempt timed out')));
    });
  let last: number | string = '';
  while ((last = await once()) !== 200) {
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`/ready on port ${port}: ${last} after ${timeoutMs} ms`);
    await sleep(5);
  }
}

/** VmRSS of PID 1 in a running container, in bytes. */
async function rssInContainer(container: string): Promise<number> {
  const status = await dockerOk(['exec', container, 'cat', '/proc/1/status']);
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

export async function containerSuite(): Promise<BenchResult[]> {
  const unavailable = engineUnavailable();
  if (unavailable) throw new Error(`the container suite needs a Docker engine: ${unavailable}`);
  const base = baseImage();
  console.error(`container: building ${IMAGE} on ${base}`);
  await buildImage(IMAGE, { base });

  const dir = tempDir();
  const workspace = path.join(dir, 'workspace');
  fs.mkdirSync(workspace);
  fs.writeFileSync(path.join(workspace, 'README.md'), '# bench\n');
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(workspace, 0o755);
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  if (process.getuid?.() === 0) fs.chownSync(secretFile, 1000, 1000);
  else if (process.getuid?.() !== 1000) fs.chmodSync(secretFile, 0o644);
  const volume = uniqueName('lh-bench-data');
  const port = await freePort();
  const containers: string[] = [];

  /**
   * `docker run -d` of the image as the README shows it, then /ready polled until it answers 200,
   * as a script would (`docker run -d ... && until curl -sf .../ready; do ...`): ms from the start.
   */
  async function startToReady(): Promise<{ ms: number; name: string }> {
    const name = uniqueName('lh-bench');
    containers.push(name);
    const t0 = performance.now();
    const r = await docker([
      'run',
      '-d',
      '--name',
      name,
      '--read-only',
      '--tmpfs',
      '/tmp',
      '-p',
      `127.0.0.1:${port}:8765`,
      '-v',
      `${volume}:/data`,
      '-v',
      `${workspace}:/workspace:ro`,
      '-v',
      `${secretFile}:/run/secrets/lighthouse_secret:ro`,
      '-e',
      'LIGHTHOUSE_AUTH_SECRET_FILE=/run/secrets/lighthouse_secret',
      IMAGE,
    ]);
    if (r.code !== 0) throw new Error(`docker run exited ${r.code}: ${r.stderr}`);
    await pollReady(port);
    return { ms: performance.now() - t0, name };
  }

  async function bareNode(): Promise<number> {
    const t0 = performance.now();
    await dockerOk(['run', '--rm', base, 'node', '-e', '0']);
    return performance.now() - t0;
  }

  try {
    // One of each first, uncounted: creates the store in the volume, warms the engine's caches.
    const warm = await startToReady();
    await dockerOk(['rm', '-f', warm.name]);
    await bareNode();

    const ready: number[] = [];
    const bare: number[] = [];
    let rss = 0;
    for (let i = 0; i < ROUNDS; i++) {
      console.error(`container: round ${i + 1}/${ROUNDS}`);
      bare.push(await bareNode());
      const s = await startToReady();
      ready.push(s.ms);
      if (i === 0) {
        await sleep(2000); // idle, as in the core suite's RSS figure
        rss = await rssInContainer(s.name);
      }
      await dockerOk(['stop', s.name], { timeoutMs: 30_000 });
      await dockerOk(['rm', s.name]);
    }

    const idle = uniqueName('lh-bench-node');
    containers.push(idle);
    await dockerOk(['run', '-d', '--name', idle, base, 'node', '-e', 'setInterval(() => {}, 1000)']);
    await sleep(1000);
    const nodeRss = await rssInContainer(idle);

    const size = Number(await dockerOk(['image', 'inspect', '--format', '{{.Size}}', IMAGE]));
    const baseSize = Number(await dockerOk(['image', 'inspect', '--format', '{{.Size}}', base]));
    const readyMs = median(ready);
    const bareMs = median(bare);
    console.error(
      `container: start to ready ${ready.map((x) => x.toFixed(0)).join(', ')} ms; ` +
        `bare node ${bare.map((x) => x.toFixed(0)).join(', ')} ms`,
    );
    return [
      atMost('container start to /ready (docker run -d, image built)', readyMs, 'ms', 1000, bareMs),
      relativeAtMost(
        'container start to /ready vs bare base image',
        readyMs,
        'ms',
        bareMs,
        3,
        '`docker run --rm <base> node -e 0`',
      ),
      atMost('image size', size / MB, 'MB', 300, baseSize / MB),
      info('bridge RSS in the container, idle', rss / MB, 'MB', nodeRss / MB),
    ];
  } finally {
    for (const c of containers) await docker(['rm', '-f', '-v', c]);
    await docker(['volume', 'rm', '-f', volume]);
  }
}
