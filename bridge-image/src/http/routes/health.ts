import type { Ready } from '../../../protocol/index.js';
import type { BridgeServices } from '../../context.js';
import { ok, type Route } from '../router.js';

export function healthRoutes(svc: BridgeServices, isDraining: () => boolean): Route[] {
  return [
    {
      method: 'GET',
      path: '/health',
      access: 'public',
      handler: () => ok({ status: 'ok', uptimeSeconds: (Date.now() - svc.startedAt) / 1000 }),
    },
    {
      method: 'GET',
      path: '/ready',
      access: 'public',
      handler: () => {
        const fuse = svc.fuseStatus();
        const open = svc.store.isOpen;
        const body: Ready = {
          ready: open && !isDraining() && !(fuse.enabled && !fuse.mounted),
          store: { open, schemaVersion: svc.store.schemaVersion, migrations: 'done' },
          fuse,
          draining: isDraining(),
        };
        return ok(body, body.ready ? 200 : 503);
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      access: 'public',
      handler: ({ res }) => {
        const text = svc.metrics.render();
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(text);
      },
    },
  ];
}
