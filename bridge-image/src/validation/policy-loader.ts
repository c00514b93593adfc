/**
 * Reading `.lighthouse/policy.json` and following it as it changes. A missing file means
 * the defaults; a broken file is reported and, while watching, the last good policy
 * stays in force so a half-saved edit never switches rules off.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_POLICY, parsePolicyText, PolicyError, type Policy } from './policy.js';

export const policyFile = (workspace: string): string => path.join(workspace, '.lighthouse', 'policy.json');

/** The policy in a file; null when the file does not exist. Throws PolicyError when it is invalid. */
export function readPolicyFile(file: string): Policy | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new PolicyError(file, [`${path.basename(file)}: cannot read: ${(e as Error).message}`]);
  }
  return parsePolicyText(text, file);
}

/** The workspace's policy, or the defaults when it has none. Throws PolicyError when it is invalid. */
export function loadPolicy(workspace: string): Policy {
  return readPolicyFile(policyFile(workspace)) ?? DEFAULT_POLICY;
}

export interface PolicyWatchOptions {
  /** Quiet time after the last change before the file is read again. */
  debounceMs?: number;
  /** A new policy is in force (also when the file is deleted: then the defaults). */
  onChange?: (policy: Policy) => void;
  /** The file is invalid; the previous policy stays in force. */
  onError?: (error: PolicyError) => void;
}

export interface PolicyWatcher {
  /** The policy in force. */
  readonly current: Policy;
  /** The error of the last read, or null when it was good. */
  readonly lastError: PolicyError | null;
  /** Reads the file now instead of waiting for a change event. */
  reload(): void;
  close(): void;
}

/**
 * Watches the policy's directory rather than the file, because editors save by writing a
 * new file and renaming it over the old one, which ends a watch on the file itself. When
 * `.lighthouse/` does not exist yet, the workspace root is watched until it appears.
 */
export function watchPolicy(workspace: string, opts: PolicyWatchOptions = {}): PolicyWatcher {
  const file = policyFile(workspace);
  const dir = path.dirname(file);
  const debounceMs = opts.debounceMs ?? 100;
  let current: Policy = DEFAULT_POLICY;
  let lastError: PolicyError | null = null;
  let lastText: string | null = null;
  let watcher: fs.FSWatcher | null = null;
  let watching: 'dir' | 'workspace' | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const read = (notify: boolean): void => {
    let text: string | null;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        fail(new PolicyError(file, [`${path.basename(file)}: cannot read: ${(e as Error).message}`]), notify);
        return;
      }
      text = null;
    }
    // Editors fire several events per save; the same text gives the same policy.
    if (text === lastText) return;
    lastText = text;
    try {
      const next = text === null ? DEFAULT_POLICY : parsePolicyText(text, file);
      current = next;
      lastError = null;
      if (notify) opts.onChange?.(next);
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      fail(e, notify);
    }
  };

  const fail = (e: PolicyError, notify: boolean): void => {
    lastError = e;
    if (notify) opts.onError?.(e);
  };

  const schedule = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      if (closed) return;
      arm();
      read(true);
    }, debounceMs);
    timer.unref();
  };

  const arm = (): void => {
    const want = fs.existsSync(dir) ? 'dir' : 'workspace';
    if (watcher && watching === want) return;
    watcher?.close();
    watcher = null;
    watching = null;
    try {
      watcher =
        want === 'dir'
          ? fs.watch(dir, { persistent: false }, (_event, name) => {
              if (name === null || String(name) === path.basename(file)) schedule();
            })
          : fs.watch(workspace, { persistent: false }, (_event, name) => {
              if (name === null || String(name) === path.basename(dir)) schedule();
            });
      // The directory itself can go away (rm -rf .lighthouse): fall back to the workspace.
      watcher.on('error', () => schedule());
      watching = want;
    } catch {
      // Workspace gone or unwatchable: the policy in force stays; reload() still works.
    }
  };

  arm();
  read(false);
  if (lastError && opts.onError) opts.onError(lastError);

  return {
    get current() {
      return current;
    },
    get lastError() {
      return lastError;
    },
    reload: () => {
      arm();
      read(true);
    },
    close: () => {
      closed = true;
      if (timer) clearTimeout(timer);
      watcher?.close();
      watcher = null;
    },
  };
}
