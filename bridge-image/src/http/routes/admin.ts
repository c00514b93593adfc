import path from 'node:path';
import { Readable } from 'node:stream';
import { BackupRequest, type BackupResponse } from '../../../protocol/index.js';
import type { BridgeServices } from '../../context.js';
import { exportJsonl } from '../../store/jsonl.js';
import { parseJson } from '../body.js';
import { ok, type Route } from '../router.js';

export function adminRoutes(svc: BridgeServices): Route[] {
  const { store, config } = svc;
  return [
    {
      method: 'POST',
      path: '/v1/admin/backup',
      access: ['admin'],
      handler: async ({ body }) => {
        const req = parseJson(body, BackupRequest);
        const name = req.name ?? `lighthouse-${new Date().toISOString().replace(/[:.]/g, '-')}.db`;
        const dest = path.join(config.dataDir, 'backups', name);
        const bytes = await store.backup(dest);
        const resp: BackupResponse = { path: dest, bytes };
        return ok(resp, 201);
      },
    },
    {
      method: 'GET',
      path: '/v1/admin/export',
      access: ['admin'],
      handler: ({ res }) => {
        res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8' });
        // Generator-backed stream: pages are read as the client drains them.
        Readable.from(exportJsonl(store)).pipe(res);
      },
    },
    {
      method: 'POST',
      path: '/v1/admin/shutdown',
      access: ['admin'],
      handler: ({ session }) => {
        setImmediate(() => svc.requestShutdown(`requested by ${session!.agentId}`));
        return ok({ shuttingDown: true }, 202);
      },
    },
  ];
}
