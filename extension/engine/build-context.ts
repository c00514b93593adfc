import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tarArchive, type TarEntry } from './tar.js';

/**
 * The files the bridge image is built from, relative to the extension's root (the repository root
 * in development, the installed .vsix otherwise): the same set the root .dockerignore lets through.
 */
export function buildContextFiles(root: string): string[] {
  const dist = path.join(root, 'bridge-image', 'dist');
  let bundles: string[];
  try {
    bundles = fs.readdirSync(dist).filter((f) => f.endsWith('.js') || f.endsWith('.js.map'));
  } catch {
    throw new Error(`the bridge bundles are missing (${dist}): this extension was packaged without them`);
  }
  if (!bundles.includes('bridge.js')) throw new Error(`${dist} has no bridge.js: run \`npm run build\``);
  return [
    'package.json',
    'package-lock.json',
    'bridge-image/Dockerfile',
    'bridge-image/container/image-package.mjs',
    'bridge-image/container/healthcheck.mjs',
    'bridge-image/container/entrypoint.sh',
    ...bundles.sort().map((f) => `bridge-image/dist/${f}`),
  ];
}

/** A digest of the build context: an image labelled with it needs no rebuild. */
export function contextDigest(root: string, files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f).update('\0');
    h.update(fs.readFileSync(path.join(root, f)));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 32);
}

/**
 * The build context as a tar archive. Made here rather than by dockerode, which would filter it
 * through the root .dockerignore and drop the Dockerfile itself (the docker CLI always sends it).
 */
export function buildContextTar(root: string, files: string[]): Buffer {
  const entries: TarEntry[] = files.map((f) => {
    const full = path.join(root, f);
    const mode = fs.statSync(full).mode & 0o777;
    return { name: f, type: 'file', mode: mode | 0o444, uid: 0, gid: 0, data: fs.readFileSync(full) };
  });
  return tarArchive(entries);
}
