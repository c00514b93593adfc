import path from 'node:path';
import { BackupRequest, type BackupResponse } from '../../../protocol/index.js';
import type { BridgeServices } from '../../context.js';
import { exportJsonl } from '../../store/jsonl.js';
import { writeLines } from '../../write-lines.js';
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
      streaming: true,
      handler: async ({ res }) => {
        const lines = exportJsonl(store);
        // The first line opens the snapshot: a store that cannot is still answered with a clean error.
        const header = lines.next().value as string;
        res.writeHead(200, {
          'content-type': 'application/x-ndjson; charset=utf-8',
          'cache-control': 'no-store',
        });
        res.write(header);
        // Lines are read from the snapshot only as fast as the client takes them. A client that went
        // away or stopped reading gets no end (the export is cut short), and the snapshot ends.
        if (await writeLines(lines, res)) res.end();
        else res.destroy();
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
