/** Assembles the schema: each import adds its fields to the builder. */
import { builder } from './builder.js';
import './cluster.js';
import './request-cluster.js';
import './clusters-query.js';
import './cluster-status.js';
import './cluster-events.js';
import './webhooks.js';

export const schema = builder.toSchema();
