import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../bridge-image/src/config.js';
import { hiddenPaths } from '../../../bridge-image/src/shadow/hidden-paths.js';
import { tempDir } from '../../helpers/bridge-process.js';

describe('the hidden part of a workspace, decided from the configuration', () => {
  it('is .lighthouse/ and whatever of the store, secret, keys and mount lies in the workspace', () => {
    const top = fs.realpathSync(tempDir());
    const ws = path.join(top, 'ws');
    fs.mkdirSync(path.join(ws, 'state'), { recursive: true });
    const config = {
      ...defaultConfig(path.join(ws, 'var', 'db'), ws),
      secretFile: path.join(ws, 'state', 'secret'),
      fuseMount: path.join(top, 'mnt'),
    };
    expect(hiddenPaths(config).sort()).toEqual(
      [
        path.join(ws, '.lighthouse'),
        path.join(ws, 'state', 'keys'),
        path.join(ws, 'state', 'secret'),
        path.join(ws, 'var', 'db'),
      ].sort(),
    );
  });

  it('never hides the workspace itself: a store kept in its root hides only the store files', () => {
    const ws = fs.realpathSync(tempDir());
    const hidden = hiddenPaths({ ...defaultConfig(ws, ws), secretFile: undefined, fuseMount: null });
    expect(hidden).not.toContain(ws);
    expect(hidden).toEqual(
      expect.arrayContaining([
        path.join(ws, 'events.db'),
        path.join(ws, 'events.db-wal'),
        path.join(ws, 'private'),
        path.join(ws, 'fuse-times.json'),
      ]),
    );
  });

  it('matches a workspace named through a symlink by its real path', () => {
    const top = fs.realpathSync(tempDir());
    fs.mkdirSync(path.join(top, 'real'));
    fs.symlinkSync('real', path.join(top, 'alias'));
    const ws = path.join(top, 'alias');
    const hidden = hiddenPaths({
      ...defaultConfig(path.join(ws, '.lighthouse', 'data'), ws),
      secretFile: undefined,
      fuseMount: null,
    });
    expect(hidden).toContain(path.join(top, 'real', '.lighthouse'));
  });
});
