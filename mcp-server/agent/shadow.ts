import fs from 'node:fs';
import path from 'node:path';
import type { Ready } from '../../bridge-image/protocol/index.js';

/** Why there is no shadow directory to start the agent in; the message says what to do instead. */
export class NoShadowError extends Error {
  override name = 'NoShadowError';
}

const INSTEAD =
  'Run the agent in the project with its Lighthouse tools only: `lighthouse agent <id> --no-shadow` ' +
  '(its MCP tools read and write its shadow; the hook blocks native writes to the project).';

/** Where the agent's shadow is on this machine, or why it cannot be; without waiting. */
export function shadowRoot(ready: Ready, mount: string | undefined): string {
  if (mount) return mount;
  if (!ready.fuse.enabled) {
    throw new NoShadowError(
      `the bridge runs without its FUSE view, so no shadow is a folder here. ${INSTEAD}`,
    );
  }
  if (!ready.fuse.mounted || !ready.fuse.mountPoint) {
    throw new NoShadowError(
      `the bridge's FUSE view is not mounted (${ready.fuse.reason ?? 'no reason given'}). ${INSTEAD}`,
    );
  }
  return ready.fuse.mountPoint;
}

const isDir = (p: string): boolean => {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/**
 * Waits for `<root>/shadows/<agentId>` (the bridge shows it once it knows the agent) and returns
 * it. A root that is not a mounted view on this machine (a bridge in a container or on another
 * machine) is said so at once, not after the wait.
 */
export async function waitForShadow(root: string, agentId: string, waitMs: number): Promise<string> {
  const shadows = path.join(root, 'shadows');
  if (!isDir(shadows)) {
    throw new NoShadowError(
      `the bridge's FUSE view is not visible on this machine at ${root} (is the bridge in a container or on ` +
        `another machine? pass --mount with where the view is here). ${INSTEAD}`,
    );
  }
  const dir = path.join(shadows, agentId);
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (isDir(dir)) return dir;
    if (Date.now() >= deadline) {
      throw new NoShadowError(
        `${dir} did not appear within ${waitMs} ms: the bridge does not know agent "${agentId}". Make its key ` +
          `where the bridge's master secret is (\`npm run key -- ${agentId}\` in the project, or the extension's ` +
          '"Lighthouse: Open Agent Terminal"), which tells the running bridge.',
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
