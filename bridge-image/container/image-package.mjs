// Used by the Dockerfile's build stage: `node image-package.mjs <repo> <out-dir>` writes
// <out-dir>/package.json and <out-dir>/package-lock.json for the bridge alone, so that the image
// installs (and its SBOM lists) exactly the npm packages the bridge is made of, at the versions
// the repository's package-lock.json pins, checked against the lock's integrity hashes by `npm ci`.
//
// The bridge's packages are found, not listed by hand: those esbuild bundled into
// bridge-image/dist/*.js (named by the source maps) and those the bundles `require` at run time
// (the native modules kept external: better-sqlite3, fuse-native), restricted to the root
// package.json's `dependencies`. Their dependency trees are copied from the root lock.
//
// It also writes <out-dir>/runtime-packages.txt: the node_modules folders the image keeps, i.e. the
// external packages and what they load at run time, without what only serves their install.
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

const [repo, out] = process.argv.slice(2);
if (!repo || !out) {
  console.error('usage: node image-package.mjs <repo-dir> <out-dir>');
  process.exit(2);
}
const readJson = (f) => JSON.parse(fs.readFileSync(path.join(repo, f), 'utf8'));
const pkg = readJson('package.json');
const lock = readJson('package-lock.json');
const dist = path.join(repo, 'bridge-image', 'dist');

/** Packages that only serve an install (downloading or compiling a binary), never loaded at run time. */
const INSTALL_ONLY = new Set(['prebuild-install', 'napi-macros']);

const bundled = new Set();
const external = new Set();
for (const f of fs.readdirSync(dist)) {
  if (f.endsWith('.js.map')) {
    for (const s of readJson(path.join('bridge-image', 'dist', f)).sources) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(s);
      if (m) bundled.add(m[1]);
    }
  } else if (f.endsWith('.js')) {
    const code = fs.readFileSync(path.join(dist, f), 'utf8');
    for (const m of code.matchAll(/\brequire\("([^"./][^"]*)"\)/g)) {
      const name = m[1].startsWith('@') ? m[1].split('/').slice(0, 2).join('/') : m[1].split('/')[0];
      if (!name.startsWith('node:') && !builtinModules.includes(name)) external.add(name);
    }
  }
}
// Optional requires of packages the project does not depend on (ws's bufferutil) drop out here.
const ours = (names) => [...names].filter((n) => pkg.dependencies?.[n]).sort();
const deps = ours(new Set([...bundled, ...external]));
if (!deps.includes('better-sqlite3')) {
  console.error(
    `image-package: better-sqlite3 not found among the bridge's dependencies (${deps.join(', ')})`,
  );
  process.exit(1);
}

// The lock's entries for the dependency closure, resolved the way Node resolves them.
const entries = lock.packages;
let picked = new Map();
const resolveFrom = (from, name) => {
  for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
    const p = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (entries[p]) return p;
    if (!dir) return undefined;
  }
};
const visit = (from, name, optional, skip = new Set()) => {
  const p = resolveFrom(from, name);
  if (!p) {
    if (optional) return;
    throw new Error(`image-package: ${name} (needed by ${from || 'the bridge'}) is not in package-lock.json`);
  }
  if (picked.has(p) || skip.has(name)) return;
  const e = entries[p];
  picked.set(p, e);
  for (const d of Object.keys(e.dependencies ?? {})) visit(p, d, false, skip);
  for (const d of Object.keys(e.optionalDependencies ?? {})) visit(p, d, true, skip);
  for (const d of Object.keys(e.peerDependencies ?? {}))
    visit(p, d, e.peerDependenciesMeta?.[d]?.optional === true, skip);
};
// What runs: the external packages' trees without the install-only ones.
for (const d of ours(external)) visit('', d, false, INSTALL_ONLY);
const runtime = [...picked.keys()].sort();
// What is installed (and listed in the SBOM): every tree, bundled ones included.
picked = new Map();
for (const d of deps) visit('', d, false);

const dependencies = Object.fromEntries(deps.map((d) => [d, entries[`node_modules/${d}`].version]));
const allowScripts = Object.fromEntries(
  Object.entries(pkg.allowScripts ?? {}).filter(([n]) => [...picked.keys()].some((p) => p.endsWith(`/${n}`))),
);
const manifest = {
  name: 'lighthouse-bridge',
  version: pkg.version,
  description: 'The Lighthouse bridge: event store, signed sessions, HTTP + WebSocket API',
  license: pkg.license,
  repository: pkg.repository,
  private: true,
  dependencies,
  allowScripts,
};
const packages = {
  '': { name: manifest.name, version: manifest.version, license: manifest.license, dependencies },
};
for (const p of [...picked.keys()].sort()) {
  const { dev: _dev, devOptional: _devOptional, peer: _peer, ...e } = picked.get(p);
  packages[p] = e;
}
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'runtime-packages.txt'), runtime.join('\n') + '\n');
fs.writeFileSync(path.join(out, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
fs.writeFileSync(
  path.join(out, 'package-lock.json'),
  JSON.stringify(
    { name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages },
    null,
    2,
  ) + '\n',
);
console.error(
  `image-package: ${deps.join(', ')}: ${picked.size} packages installed, ${runtime.length} kept in the image`,
);
