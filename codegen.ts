/**
 * `npm run codegen`: writes schema.graphql from the Pothos schema, and typed documents for the examples.
 * A test (test/schema/schema-file.test.ts) fails when the committed schema.graphql is stale.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './src/schema/index.js';

const config: CodegenConfig = {
  schema: printSchema(lexicographicSortSchema(schema)),
  documents: ['examples/**/*.ts', '!examples/gql/**'],
  // Our sources are ESM (NodeNext): generated relative imports need their `.js`.
  importExtension: '.js',
  generates: {
    'schema.graphql': { plugins: ['schema-ast'] },
    'examples/gql/': { preset: 'client', config: { useTypeImports: true, enumsAsTypes: true }, presetConfig: { fragmentMasking: false } },
  },
};

export default config;
