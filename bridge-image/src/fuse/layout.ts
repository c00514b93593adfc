/**
 * Where a path of the mount points: DESIGN.md's layout.
 *   /current/<p>               the workspace, read-only
 *   /shadows/<agent>/<p>       that agent's shadow, read-write
 *   /history/<seq>/<agent>/<p> that shadow as it stood at event seq, read-only
 *   /context/<p>.json          annotations on <p>, read-only
 *   /streams/events.jsonl      the event log, growing, read-only
 */
export type Location =
  | { area: 'root' }
  | { area: 'current'; rel: string }
  | { area: 'shadows'; agent: string | null; rel: string }
  | { area: 'history'; seq: number | null; agent: string | null; rel: string }
  | { area: 'context'; rel: string }
  | { area: 'streams'; rel: string }
  | { area: 'none' };

export const TOP = ['context', 'current', 'history', 'shadows', 'streams'];

/** Splits a mount path ("/shadows/a/src/x.ts") into its area and the workspace-relative rest. */
export function locate(p: string): Location {
  const parts = p.split('/').filter(Boolean);
  if (parts.length === 0) return { area: 'root' };
  const [top, ...rest] = parts;
  switch (top) {
    case 'current':
      return { area: 'current', rel: rest.join('/') };
    case 'shadows':
      return { area: 'shadows', agent: rest[0] ?? null, rel: rest.slice(1).join('/') };
    case 'history': {
      if (rest.length === 0) return { area: 'history', seq: null, agent: null, rel: '' };
      if (!/^\d{1,15}$/.test(rest[0]!)) return { area: 'none' };
      return { area: 'history', seq: Number(rest[0]), agent: rest[1] ?? null, rel: rest.slice(2).join('/') };
    }
    case 'context':
      return { area: 'context', rel: rest.join('/') };
    case 'streams':
      return { area: 'streams', rel: rest.join('/') };
    default:
      return { area: 'none' };
  }
}
