// Runs inside the real VS Code extension host (code-server), loaded through extensionTestsPath.
// esbuild bundles this file to dist/test/e2e-suite.js; mocha stays external (node_modules).
import Mocha from 'mocha';
import { registerExtensionSuite } from './extension.e2e.js';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 180_000, color: false, reporter: 'spec' });
  // Puts describe/it/before… on the global object, as `mocha` does for each file it loads.
  mocha.suite.emit('pre-require', globalThis, 'extension.e2e', mocha);
  registerExtensionSuite();
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}
