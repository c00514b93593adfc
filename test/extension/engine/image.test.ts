/**
 * The bridge image the extension builds or reuses: which files it sends to the engine, when it
 * builds again, and what the user reads when a configured image is missing or a build fails.
 * Builds here use a small Dockerfile in a root laid out like the extension's (the real one takes
 * minutes cold); the repository's own .dockerignore goes into that root, as it is in the real one.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';
import { afterAll, describe, expect, it } from 'vitest';
import { buildContextFiles, contextDigest } from '../../../extension/engine/build-context.js';
import { ensureImage, ImageBuildError } from '../../../extension/engine/image.js';
import { LABELS } from '../../../extension/engine/labels.js';
import { docker as dockerCli, ROOT } from '../../helpers/docker.js';
import { dockerClient, engineSkipReason, Made, TINY_IMAGE, uniqueName } from '../engine-helpers.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lh-ext-img-'));
  dirs.push(d);
  return d;
}
const made = new Made();
afterAll(async () => {
  await made.cleanup();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Every file under root, relative, except .git and node_modules (which .dockerignore's `*` drops). */
function walk(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (p !== '.git' && p !== 'node_modules') out.push(...walk(root, p));
    } else out.push(p);
  }
  return out;
}

const ignoreRules = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8');
/** What the repository's .dockerignore lets through, decided by the matcher dockerode itself uses. */
const letThrough = (paths: string[]) => dockerignore({ ignorecase: false }).add(ignoreRules).filter(paths);

/** A copy of the build context of `root` (the listed files and .dockerignore) in a new directory. */
function copyContext(root: string): string {
  const to = tempDir();
  for (const f of [...buildContextFiles(root), '.dockerignore']) {
    fs.mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
    fs.copyFileSync(path.join(root, f), path.join(to, f));
  }
  return to;
}

describe('buildContextFiles', () => {
  it('is what the root .dockerignore lets through, plus the Dockerfile the engine needs', () => {
    expect(letThrough(['node_modules/x/index.js', '.git/HEAD'])).toEqual([]);
    const expected = [...letThrough(walk(ROOT)), 'bridge-image/Dockerfile'].sort();
    expect(expected).toContain('bridge-image/dist/bridge.js');
    expect([...buildContextFiles(ROOT)].sort()).toEqual(expected);
  });

  it('takes every bundle and its map, and nothing else from dist', () => {
    const root = copyContext(ROOT);
    fs.writeFileSync(path.join(root, 'bridge-image/dist/extra.js'), '');
    fs.writeFileSync(path.join(root, 'bridge-image/dist/extra.js.map'), '');
    fs.writeFileSync(path.join(root, 'bridge-image/dist/notes.txt'), '');
    const dist = buildContextFiles(root).filter((f) => f.startsWith('bridge-image/dist/'));
    expect(dist).toContain('bridge-image/dist/extra.js');
    expect(dist).toContain('bridge-image/dist/extra.js.map');
    expect(dist).not.toContain('bridge-image/dist/notes.txt');
    expect(dist).toEqual(letThrough(dist));
  });

  it('says the bundles are missing, or that `npm run build` is needed', () => {
    const root = tempDir();
    expect(() => buildContextFiles(root)).toThrow(
      `the bridge bundles are missing (${path.join(root, 'bridge-image', 'dist')}): this extension was packaged without them`,
    );
    fs.mkdirSync(path.join(root, 'bridge-image', 'dist'), { recursive: true });
    fs.writeFileSync(path.join(root, 'bridge-image', 'dist', 'store-writer.js'), '');
    expect(() => buildContextFiles(root)).toThrow('has no bridge.js: run `npm run build`');
  });
});

describe('contextDigest', () => {
  it('depends on the files’ contents and names, not on where the root is', () => {
    const root = copyContext(ROOT);
    const files = buildContextFiles(root);
    const before = contextDigest(root, files);
    expect(before).toMatch(/^[0-9a-f]{32}$/);
    expect(contextDigest(ROOT, buildContextFiles(ROOT))).toBe(before);

    const bundle = path.join(root, 'bridge-image/dist/bridge.js');
    const original = fs.readFileSync(bundle);
    fs.writeFileSync(bundle, Buffer.concat([original, Buffer.from('\n')]));
    expect(contextDigest(root, files)).not.toBe(before);
    fs.writeFileSync(bundle, original);
    expect(contextDigest(root, files)).toBe(before);

    fs.writeFileSync(path.join(root, 'bridge-image/dist/extra.js'), '');
    expect(contextDigest(root, buildContextFiles(root))).not.toBe(before);
  });

  it('tells apart the same bytes under another name', () => {
    const root = tempDir();
    fs.writeFileSync(path.join(root, 'a'), 'x');
    fs.writeFileSync(path.join(root, 'b'), 'x');
    expect(contextDigest(root, ['a'])).not.toBe(contextDigest(root, ['b']));
  });
});

const skip = engineSkipReason();
if (skip) console.warn(`image tests on the engine SKIPPED: ${skip}`);

describe.skipIf(skip !== null)('ensureImage on the real engine', () => {
  const docker = dockerClient();

  it('gives a clear error when the configured image is not on the engine', async () => {
    const missing = `${uniqueName('lh-ext-missing')}:nope`;
    await expect(
      ensureImage({ docker, root: tempDir(), configuredImage: missing, version: '0.0.0' }),
    ).rejects.toThrow(
      `the image "${missing}" named in lighthouse.image is not on the engine: pull or build it, or clear the setting to build Lighthouse's own`,
    );
  });

  it('uses a configured image that is there as it is, without looking at the bundles', async () => {
    expect(
      await ensureImage({ docker, root: tempDir(), configuredImage: TINY_IMAGE, version: '0.0.0' }),
    ).toEqual({ image: TINY_IMAGE, built: false });
  });

  it('lists what the docker CLI sends for the same .dockerignore (and the Dockerfile)', () => {
    // `docker build` of the repository with a Dockerfile that copies the whole context: the image
    // then holds exactly what the CLI sent, the Dockerfile aside (sent, but never copied).
    const tag = `${uniqueName('lh-ext-ctx')}:t`;
    const name = uniqueName('lh-ext-ctx');
    made.images.push(tag);
    made.containers.push(name);
    const run = (args: string[], input?: string) =>
      execFileSync('docker', args, { input, maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
    run(['build', '-q', '-t', tag, '-f', '-', ROOT], 'FROM scratch\nCOPY . /ctx/\n');
    run(['create', '--name', name, tag, '/none']);
    const listing = execFileSync('tar', ['-tf', '-'], { input: run(['export', name]), encoding: 'utf8' });
    const sent = listing
      .split('\n')
      .filter((l) => l.startsWith('ctx/') && !l.endsWith('/'))
      .map((l) => l.slice('ctx/'.length));
    expect([...sent, 'bridge-image/Dockerfile'].sort()).toEqual([...buildContextFiles(ROOT)].sort());
  });

  /** A root laid out like the extension's with a small Dockerfile: builds in seconds. */
  function smallRoot(dockerfile: string): string {
    const root = tempDir();
    const put = (f: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      fs.writeFileSync(path.join(root, f), text);
    };
    put('.dockerignore', ignoreRules);
    put('package.json', '{"name":"lighthouse"}\n');
    put('package-lock.json', '{}\n');
    for (const f of ['image-package.mjs', 'healthcheck.mjs', 'entrypoint.sh'])
      put(`bridge-image/container/${f}`, '');
    put('bridge-image/dist/bridge.js', 'console.log("bundle one")\n');
    put('bridge-image/dist/bridge.js.map', '{}\n');
    put('bridge-image/Dockerfile', dockerfile);
    return root;
  }

  async function imageOf(tag: string) {
    const info = await docker.getImage(tag).inspect();
    made.images.push(info.Id);
    return info;
  }

  it('builds on the base image given, labels the image with its files’ digest, and builds again only when they change', async () => {
    const root = smallRoot(
      [
        // No usable default: the build works only if the base image given is passed in.
        'ARG NODE_IMAGE=lighthouse-ext-test/no-such-base',
        'FROM ${NODE_IMAGE}',
        'ARG VERSION',
        'COPY bridge-image/dist/ /opt/dist/',
        'RUN echo "building version ${VERSION}" && cat /opt/dist/bridge.js',
        '',
      ].join('\n'),
    );
    const version = uniqueName('ext-test');
    const tag = `lighthouse-bridge:${version}`;
    made.images.push(tag);
    const lines: string[] = [];
    const opts = {
      docker,
      root,
      baseImage: TINY_IMAGE,
      version,
      onProgress: ({ line }: { line: string }) => lines.push(line),
    };

    expect(await ensureImage(opts)).toEqual({ image: tag, built: true });
    expect(lines).toContain(`building version ${version}`);
    expect(lines).toContain('console.log("bundle one")');
    const first = await imageOf(tag);
    expect(first.Config.Labels?.[LABELS.buildDigest]).toBe(contextDigest(root, buildContextFiles(root)));

    lines.length = 0;
    expect(await ensureImage(opts)).toEqual({ image: tag, built: false });
    expect(lines).toEqual([]);

    fs.writeFileSync(path.join(root, 'bridge-image/dist/bridge.js'), 'console.log("bundle two")\n');
    expect(await ensureImage(opts)).toEqual({ image: tag, built: true });
    expect(lines).toContain('console.log("bundle two")');
    const second = await imageOf(tag);
    expect(second.Id).not.toBe(first.Id);
    expect(second.Config.Labels?.[LABELS.buildDigest]).toBe(contextDigest(root, buildContextFiles(root)));

    // The next version of the extension, same files: the engine's cache serves the copy of the bundles.
    const next = uniqueName('ext-test-next');
    made.images.push(`lighthouse-bridge:${next}`);
    lines.length = 0;
    expect(await ensureImage({ ...opts, version: next })).toEqual({
      image: `lighthouse-bridge:${next}`,
      built: true,
    });
    await imageOf(`lighthouse-bridge:${next}`);
    const copyStep = lines.findIndex((l) => l.includes('COPY bridge-image/dist/'));
    expect(copyStep, lines.join('\n')).toBeGreaterThanOrEqual(0);
    expect(lines[copyStep + 1], lines.join('\n')).toMatch(/Using cache/);
  });

  it('fails with the build’s own words and its log, leaving no image and no container behind', async () => {
    const marker = uniqueName('about-to-fail');
    const root = smallRoot(`FROM ${TINY_IMAGE}\nRUN echo "${marker}" && exit 3\n`);
    const version = uniqueName('ext-test-fail');
    const e = await ensureImage({ docker, root, version }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ImageBuildError);
    expect((e as Error).message).toMatch(/^the bridge image did not build: .*non-zero code: 3/);
    expect((e as ImageBuildError).log).toContain(marker);
    expect(await dockerCli(['image', 'inspect', `lighthouse-bridge:${version}`])).toMatchObject({ code: 1 });
    // The step's container stays behind unless the build is told to remove it on failure too.
    const left = await docker.listContainers({ all: true });
    const ours = left.filter((c) => c.Command.includes(marker));
    made.containers.push(...ours.map((c) => c.Id));
    expect(ours.map((c) => c.Command)).toEqual([]);
  });
});
