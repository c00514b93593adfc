import type { ChildProcess } from 'node:child_process';

/** Resolves with a child process's exit code, or the signal's name. */
export function exitOf(proc: ChildProcess): Promise<number | string> {
  return new Promise((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
}

/**
 * Waits until a child process's log says where it listens (the first group of `pattern`); rejects
 * with the log when the process exits first or says nothing within 15 s.
 */
export function listeningUrl(
  what: string,
  log: () => string,
  pattern: RegExp,
  exited: Promise<number | string>,
): Promise<string> {
  let gone: number | string | undefined;
  void exited.then((code) => (gone = code));
  return new Promise<string>((resolve, reject) => {
    const t0 = Date.now();
    const poll = () => {
      const m = pattern.exec(log());
      if (m) return resolve(m[1]!);
      if (gone !== undefined)
        return reject(new Error(`${what} exited (${gone}) before listening:\n${log()}`));
      if (Date.now() - t0 > 15_000) return reject(new Error(`${what} did not listen within 15 s:\n${log()}`));
      setTimeout(poll, 20);
    };
    poll();
  });
}
