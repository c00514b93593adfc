/** lighthouse: URIs: /current/<path>, /shadows/<agent>/<path>, /history/<seq>/<agent>/<path>. */
export type LighthouseLocation =
  | { kind: 'root' }
  | { kind: 'current'; path: string }
  | { kind: 'shadows' }
  | { kind: 'history' }
  | { kind: 'historySeq'; seq: number }
  | { kind: 'shadow'; agent: string; path: string; at?: number };

export const SCHEME = 'lighthouse';

export function parseLocation(uriPath: string): LighthouseLocation {
  const parts = uriPath.split('/').filter(Boolean);
  const [top, a, b, ...rest] = parts;
  if (!top) return { kind: 'root' };
  if (top === 'current') return { kind: 'current', path: parts.slice(1).join('/') };
  if (top === 'shadows') {
    if (!a) return { kind: 'shadows' };
    return { kind: 'shadow', agent: a, path: parts.slice(2).join('/') };
  }
  if (top === 'history') {
    if (!a) return { kind: 'history' };
    const seq = Number(a);
    if (!Number.isInteger(seq) || seq < 0) throw new Error(`history/${a}: not an event seq`);
    if (!b) return { kind: 'historySeq', seq };
    return { kind: 'shadow', agent: b, path: rest.join('/'), at: seq };
  }
  throw new Error(`lighthouse:/${top}: expected current/, shadows/ or history/`);
}

export function shadowPath(agent: string, path: string): string {
  return `/shadows/${agent}/${path}`;
}

export function currentPath(path: string): string {
  return `/current/${path}`;
}
