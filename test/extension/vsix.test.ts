import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildContextFiles, contextDigest } from '../../extension/engine/build-context.js';
import { tempDir } from '../helpers/temp-dirs.js';

const ROOT = path.resolve(__dirname, '..', '..');

describe('the packaged .vsix', () => {
  it('holds the extension, lighthouse-mcp and exactly what the bridge image is built from', () => {
    const dir = tempDir('lh-vsix-');
    const vsix = path.join(dir, 'lighthouse.vsix');
    execFileSync(
      path.join(ROOT, 'node_modules', '.bin', 'vsce'),
      ['package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', vsix],
      { cwd: ROOT, stdio: 'pipe' },
    );
    execFileSync('unzip', ['-q', vsix, '-d', dir]);
    const ext = path.join(dir, 'extension');
    for (const f of [
      'package.json',
      'dist/extension.js',
      'dist/lazy-dockerode.js',
      'dist/lazy-protocol.js',
      'dist/mcp-server.js',
      'dist/lighthouse.js',
      'media/lighthouse.svg',
    ]) {
      expect(fs.existsSync(path.join(ext, f)), f).toBe(true);
    }
    // The installed extension builds the same image as the repository: same files, same digest.
    const files = buildContextFiles(ext);
    expect(files).toEqual(buildContextFiles(ROOT));
    expect(contextDigest(ext, files)).toBe(contextDigest(ROOT, files));
    // Nothing else: no sources, tests or node_modules.
    const all = execFileSync('unzip', ['-Z1', vsix]).toString().trim().split('\n');
    expect(all.filter((f) => /^extension\/(extension|mcp-server|test|node_modules)\//.test(f))).toEqual([]);
  }, 120_000);
});
