// One config, three bundles. `node esbuild.config.mjs [--watch]`.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'info',
  legalComments: 'none',
};

/** @type {esbuild.BuildOptions[]} */
const bundles = [
  {
    ...common,
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.js',
    format: 'cjs',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: ['mcp-server/main.ts'],
    outfile: 'dist/mcp-server.js',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    // ws works without its optional native speed-ups; keep the MCP server free of native code.
    external: ['bufferutil', 'utf-8-validate'],
  },
  {
    ...common,
    entryPoints: ['bridge-image/src/main.ts'],
    outfile: 'bridge-image/dist/bridge.js',
    format: 'cjs',
    external: ['better-sqlite3', 'fuse-native', 'bufferutil', 'utf-8-validate'],
  },
];

if (watch) {
  const contexts = await Promise.all(bundles.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.error('esbuild: watching for changes');
} else {
  await Promise.all(bundles.map((b) => esbuild.build(b)));
}
