/**
 * The real Docker engine for the extension's engine tests: a dockerode client on the address the
 * docker CLI uses, and a record of what a test made so that it is removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import Docker from 'dockerode';
import { dockerodeOptions } from '../../extension/engine/candidates.js';
import { docker as dockerCli, engineUnavailable, uniqueName } from '../helpers/docker.js';

export { uniqueName };

/** The address `docker info` uses here: DOCKER_HOST when set, else the default socket. */
export const ENGINE = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';

/** The small local image the engine tests run (made by ../shared/tools/docker-env.sh). */
export const TINY_IMAGE = 'lighthouse-ci/node:24-bookworm-slim';

/** Why the engine tests cannot run here, or null; they skip, saying so, when it is not null. */
export function engineSkipReason(needImage = TINY_IMAGE): string | null {
  const why = engineUnavailable();
  if (why) return why;
  try {
    // Synchronous on purpose: describe.skipIf needs the answer while the file is collected.
    execFileSync('docker', ['image', 'inspect', needImage], { stdio: 'ignore', timeout: 20_000 });
    return null;
  } catch {
    return `the image ${needImage} is not on the engine (run ../shared/tools/docker-env.sh)`;
  }
}

export function dockerClient(): Docker {
  return new Docker(dockerodeOptions(ENGINE));
}

/** Containers, volumes and image tags a test made: removed by `cleanup()` whatever happened. */
export class Made {
  containers: string[] = [];
  volumes: string[] = [];
  images: string[] = [];

  async cleanup(): Promise<void> {
    if (this.containers.length) await dockerCli(['rm', '-f', '-v', ...this.containers]);
    if (this.volumes.length) await dockerCli(['volume', 'rm', '-f', ...this.volumes]);
    if (this.images.length) await dockerCli(['rmi', '-f', ...this.images]);
  }
}
