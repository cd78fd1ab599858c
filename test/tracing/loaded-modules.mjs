// Preloaded into a gateway process (NODE_OPTIONS=--import=<this file>) to tell which OpenTelemetry modules it
// loaded: ESM imports through a resolve hook (on the loader thread, reported back over a port), CommonJS
// requires through Module._load (with the file that required it). At exit it writes them, as a JSON array, to the file LOADED_MODULES_REPORT names.
import { writeFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const OTEL = /@opentelemetry[\\/]|import-in-the-middle|require-in-the-middle/;
const seen = new Set();

const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => seen.add(url));
port1.unref();
const hooks = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (${OTEL}.test(result.url)) port.postMessage(result.url);
  return result;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { port: port2 }, transferList: [port2] });

const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (OTEL.test(request)) seen.add(`${request} <- ${parent?.filename ?? '?'}`);
  return load.call(this, request, parent, isMain);
};

const report = process.env.LOADED_MODULES_REPORT;
if (!report) throw new Error('loaded-modules.mjs: set LOADED_MODULES_REPORT to the file to write');
process.on('exit', () => writeFileSync(report, JSON.stringify([...seen])));
