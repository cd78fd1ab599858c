import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    alias: {
      // graphql 16 ships CJS (main) and ESM (module) builds. Node, and so yoga and Pothos, load the CJS one;
      // Vite would pick the ESM one for our sources, and two GraphQLError classes make yoga mask our errors.
      graphql: require.resolve('graphql'),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start real servers on port 0; two cores run two files at a time comfortably.
    maxWorkers: 2,
  },
});
