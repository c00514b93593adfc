// One config, three bundles. `node esbuild.config.mjs [--watch]`.
import * as esbuild from 'esbuild';
import fs from 'node:fs';

const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'info',
  legalComments: 'none',
};

/**
 * What the extension loads only when first needed, each from its own file beside dist/extension.js:
 * compiling and evaluating them would be most of the extension's activation time. Only dynamic
 * import()s are redirected; type imports vanish and nothing else may import these eagerly.
 */
const lazyFiles = [
  { specifier: /^dockerode$/, file: 'lazy-dockerode', entry: 'node_modules/dockerode/lib/docker.js' },
  {
    specifier: /\/bridge-image\/protocol\/index\.js$/,
    file: 'lazy-protocol',
    entry: 'bridge-image/protocol/index.ts',
  },
];
/** @type {esbuild.Plugin} */
const lazyFilesPlugin = {
  name: 'lazy-files',
  setup(build) {
    for (const { specifier, file } of lazyFiles) {
      build.onResolve({ filter: specifier }, (args) => {
        if (args.kind !== 'dynamic-import') {
          throw new Error(
            `${args.importer} imports ${args.path} eagerly; only import() keeps it off activation`,
          );
        }
        return { path: `./${file}.js`, external: true };
      });
    }
  },
};

/**
 * The bridge's bundles are pure ASCII: V8 then keeps their source text (which it holds on to for lazy
 * compilation) as one byte per character instead of two, a few MB less resident memory. esbuild's
 * `charset: 'ascii'` escapes strings and identifiers; comments it keeps are escaped here.
 * @type {esbuild.Plugin}
 */
const asciiOnly = {
  name: 'ascii-only',
  setup(build) {
    build.onEnd((result) => {
      for (const file of Object.keys(result.metafile?.outputs ?? {})) {
        if (!file.endsWith('.js')) continue;
        const text = fs.readFileSync(file, 'utf8');
        // eslint-disable-next-line no-control-regex
        const ascii = text.replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
        if (ascii !== text) fs.writeFileSync(file, ascii);
      }
    });
  },
};

/** @type {esbuild.BuildOptions[]} */
const bundles = [
  {
    ...common,
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.js',
    format: 'cjs',
    // dockerode's ssh2 tries optional native speed-ups in try/catch; the extension ships no native
    // code, so those requires stay unresolved and ssh2 uses its JavaScript paths.
    external: ['vscode', 'cpu-features', '*.node', 'bufferutil', 'utf-8-validate'],
    plugins: [lazyFilesPlugin],
    // When the bundle starts and ends running: the benchmark counts evaluation from here (its compiling
    // it measures apart, in plain Node).
    banner: { js: 'globalThis.__lighthouseLoadStart = performance.now();' },
    footer: { js: 'globalThis.__lighthouseLoadEnd = performance.now();' },
  },
  {
    ...common,
    entryPoints: Object.fromEntries(lazyFiles.map(({ file, entry }) => [file, entry])),
    outdir: 'dist',
    format: 'cjs',
    external: ['cpu-features', '*.node', 'bufferutil', 'utf-8-validate'],
  },
  {
    ...common,
    entryPoints: { 'mcp-server': 'mcp-server/main.ts', lighthouse: 'mcp-server/lighthouse.ts' },
    outdir: 'dist',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    // ws works without its optional native speed-ups; keep the MCP server and the `lighthouse` command
    // free of native code: they run on any Node.
    external: ['bufferutil', 'utf-8-validate'],
  },
  {
    ...common,
    entryPoints: {
      bridge: 'bridge-image/src/main.ts',
      'store-writer': 'bridge-image/src/store/writer-worker.ts',
      'fuse-daemon': 'bridge-image/src/fuse/daemon.ts',
    },
    outdir: 'bridge-image/dist',
    format: 'cjs',
    external: ['better-sqlite3', 'fuse-native', 'bufferutil', 'utf-8-validate'],
    charset: 'ascii',
    // Whitespace and comments out, names kept (stack traces stay readable; the source map maps back):
    // the source text V8 holds for lazy compilation is a third smaller.
    minifyWhitespace: true,
    metafile: true,
    plugins: [asciiOnly],
  },
];

// The end-to-end suite that runs inside VS Code's extension host (test/e2e/); not part of the .vsix.
bundles.push({
  ...common,
  entryPoints: { 'e2e-suite': 'test/e2e/suite/index.ts', 'e2e-bench': 'test/e2e/suite/bench-index.ts' },
  outdir: 'dist/test',
  format: 'cjs',
  external: ['vscode', 'mocha', 'bufferutil', 'utf-8-validate'],
  logLevel: 'warning',
});

// `--bench` adds the benchmark runner and its helper processes (dist/bench/), built only for `npm run bench`.
if (process.argv.includes('--bench')) {
  bundles.push({
    ...common,
    entryPoints: [
      'bench/run.ts',
      'bench/lib/loadgen.ts',
      'bench/lib/baseline-server.ts',
      'bench/lib/read-repeatedly.ts',
      'bench/lib/passthrough-fuse.ts',
    ],
    outdir: 'dist/bench',
    entryNames: '[name]',
    format: 'cjs',
    external: ['better-sqlite3', 'fuse-native', 'bufferutil', 'utf-8-validate', 'playwright-core'],
    logLevel: 'warning',
  });
}

if (watch) {
  const contexts = await Promise.all(bundles.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.error('esbuild: watching for changes');
} else {
  await Promise.all(bundles.map((b) => esbuild.build(b)));
}
