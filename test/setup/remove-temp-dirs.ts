import { afterAll } from 'vitest';
import { removeTempDirs } from '../helpers/temp-dirs.js';

// Registered before the test file's own hooks, so it runs after them (vitest runs "after" hooks as
// a stack): bridges are stopped and mounts released by then.
afterAll(removeTempDirs);
