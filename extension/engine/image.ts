import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { buildContextFiles, buildContextTar, contextDigest } from './build-context.js';
import { extraCaCerts } from './extra-ca.js';
import { LABELS } from './labels.js';

export interface BuildProgress {
  /** A line of build output (a Dockerfile step, an npm line...). */
  line: string;
}

export interface EnsureImageOptions {
  docker: Docker;
  /** The extension's root: holds the Dockerfile and the bundles. */
  root: string;
  /** An image named in settings: used as it is, never built. */
  configuredImage?: string | undefined;
  /** Base image for the build (NODE_IMAGE), e.g. a local mirror of node:24-bookworm-slim. */
  baseImage?: string | undefined;
  version: string;
  onProgress?: (p: BuildProgress) => void;
  signal?: AbortSignal;
}

export class ImageBuildError extends Error {
  override name = 'ImageBuildError';
  constructor(
    message: string,
    readonly log: string[],
  ) {
    super(message);
  }
}

/**
 * The image to run: the configured one, or `lighthouse-bridge:<version>` built from the bundled
 * Dockerfile unless an image built from the same files is already there.
 */
export async function ensureImage(opts: EnsureImageOptions): Promise<{ image: string; built: boolean }> {
  const { docker } = opts;
  if (opts.configuredImage) {
    try {
      await docker.getImage(opts.configuredImage).inspect();
    } catch {
      throw new Error(
        `the image "${opts.configuredImage}" named in lighthouse.image is not on the engine: pull or build it, or clear the setting to build Lighthouse's own`,
      );
    }
    return { image: opts.configuredImage, built: false };
  }
  const files = buildContextFiles(opts.root);
  const digest = contextDigest(opts.root, files);
  const tag = `lighthouse-bridge:${opts.version}`;
  try {
    const info = await docker.getImage(tag).inspect();
    if (info.Config?.Labels?.[LABELS.buildDigest] === digest) return { image: tag, built: false };
  } catch {
    // not there yet
  }
  const buildargs: Record<string, string> = { VERSION: opts.version };
  if (opts.baseImage) buildargs.NODE_IMAGE = opts.baseImage;
  const ca = extraCaCerts();
  if (ca) buildargs.EXTRA_CA_CERTS = ca;
  // The context is packed here: dockerode's packing applies the root's .dockerignore, which leaves
  // out the Dockerfile (the docker CLI sends it regardless; the engine cannot build without it).
  const context = Readable.from([buildContextTar(opts.root, files)]);
  const stream = await docker.buildImage(context, {
    t: tag,
    dockerfile: 'bridge-image/Dockerfile',
    buildargs,
    labels: { [LABELS.buildDigest]: digest },
    rm: true,
    // Also when a step fails: else each failed build leaves that step's container behind.
    forcerm: true,
  });
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      reject(new Error('image build cancelled'));
    };
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: { error?: string; errorDetail?: { message?: string } }[]) => {
        opts.signal?.removeEventListener('abort', onAbort);
        const failed = err?.message ?? output.find((o) => o.error)?.error;
        if (failed) {
          const tail = log.slice(-15).join('\n');
          reject(new ImageBuildError(`the bridge image did not build: ${failed.trim()}\n${tail}`, log));
        } else resolve();
      },
      (event: { stream?: string; status?: string; error?: string }) => {
        const text = event.stream ?? event.status ?? event.error;
        if (!text) return;
        for (const line of text.split('\n')) {
          if (!line.trim()) continue;
          log.push(line);
          if (log.length > 500) log.shift();
          opts.onProgress?.({ line });
        }
      },
    );
  });
  return { image: tag, built: true };
}
