import * as vscode from 'vscode';

/** The extension's settings, read fresh on each use (package.json describes each). */
export interface Settings {
  dockerHost: string;
  image: string;
  baseImage: string;
  port: number;
  fuse: boolean;
  logLevel: string;
  autoStart: boolean;
  eventLogCapacity: number;
  eventLogPageSize: number;
  notifyReviews: boolean;
  readyTimeoutSeconds: number;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('lighthouse');
  return {
    dockerHost: c.get<string>('dockerHost', ''),
    image: c.get<string>('image', ''),
    baseImage: c.get<string>('baseImage', 'node:24-bookworm-slim'),
    port: c.get<number>('port', 8765),
    fuse: c.get<boolean>('fuse', false),
    logLevel: c.get<string>('logLevel', 'info'),
    autoStart: c.get<boolean>('autoStart', false),
    eventLogCapacity: Math.max(1000, c.get<number>('eventLog.capacity', 50_000)),
    eventLogPageSize: Math.max(20, c.get<number>('eventLog.pageSize', 200)),
    notifyReviews: c.get<boolean>('notifyReviews', true),
    readyTimeoutSeconds: Math.max(5, c.get<number>('readyTimeoutSeconds', 90)),
  };
}
