import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../bridge-image/src/log.js';
import { originalStack } from '../../bridge-image/src/source-stack.js';
import { tempDir } from '../helpers/temp-dirs.js';

/** A bundle built the way the bridge's are (whitespace-minified, with a map) that throws from line 6. */
async function throwingBundle(): Promise<{ dir: string; stack: string }> {
  const dir = tempDir('lh-stack-');
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(
    path.join(dir, 'src', 'deep.ts'),
    [
      'export function deep(n: number): number {',
      '  let total = 0;',
      '  for (let i = 0; i < n; i++) total += i;',
      '  // a comment, so that line numbers differ from the bundle',
      '  if (total >= 0) {',
      "    throw new Error('deep failed');",
      '  }',
      '  return total;',
      '}',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(dir, 'src', 'main.ts'),
    "import { deep } from './deep.js';\ntry { deep(3); } catch (e) { process.stdout.write((e as Error).stack!); }\n",
  );
  await build({
    entryPoints: [path.join(dir, 'src', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    minifyWhitespace: true,
    sourcemap: true,
    outfile: path.join(dir, 'dist', 'main.js'),
    logLevel: 'silent',
  });
  const stack = execFileSync(process.execPath, [path.join(dir, 'dist', 'main.js')], { encoding: 'utf8' });
  return { dir, stack };
}

describe('originalStack', () => {
  it('moves frames of a minified bundle back to the TypeScript file and line', async () => {
    const { dir, stack } = await throwingBundle();
    expect(stack).toContain(path.join(dir, 'dist', 'main.js') + ':1:');
    const mapped = originalStack(stack);
    expect(mapped).toContain(`${path.join(dir, 'src', 'deep.ts')}:6:`);
    expect(mapped).toContain(path.join(dir, 'src', 'main.ts') + ':2:');
    expect(mapped).not.toContain('main.js:1:');
  });

  it('leaves frames without a source map as they are', () => {
    const stack = 'Error: x\n    at f (/nowhere/plain.js:10:5)\n    at node:internal/main:1:1';
    expect(originalStack(stack)).toBe(stack);
  });

  it('is what the bridge log writes for an error', async () => {
    const { dir, stack } = await throwingBundle();
    const err = new Error('deep failed');
    err.stack = stack;
    const lines: string[] = [];
    createLogger('info', {}, (l) => lines.push(l)).error('request failed', { err });
    const logged = JSON.parse(lines[0]!) as { err: { message: string; stack: string } };
    expect(logged.err.message).toBe('deep failed');
    expect(logged.err.stack).toContain(`${path.join(dir, 'src', 'deep.ts')}:6:`);
  });
});
