// npm test's vitest configuration, limited to the unit tests of the modules under mutation
// (test/stryker.config.mjs): end-to-end tests run the built bundle, which holds no mutant.
import { mergeConfig } from 'vitest/config';
import { MODULES, unitTests } from './stryker.config.mjs';
import base from './vitest.config.js';

export default mergeConfig(base, { test: { include: MODULES.map(unitTests) } });
