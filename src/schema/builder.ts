/** The one Pothos builder. Only configuration lives here; fields live in one file per group. */
import SchemaBuilder from '@pothos/core';
import { DateTimeResolver } from 'graphql-scalars';
import type { GatewayContext } from '../resolvers/context.js';

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  Scalars: { DateTime: { Input: Date; Output: Date | string } };
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
});

builder.addScalarType('DateTime', DateTimeResolver, {
  description: 'A date and time in UTC, as an ISO-8601 string, e.g. `2026-11-25T14:00:00.000Z`.',
});

builder.queryType({
  description:
    'Read what the gateway knows about requested clusters. Needs an Xbox Live credential (you see the sessions your identity requested) or an operator key (`x-api-key`: every session).',
});
builder.mutationType({ description: 'Ask GSMS for game servers.' });
builder.subscriptionType({ description: 'Follow sessions as GSMS serves them, instead of polling.' });
