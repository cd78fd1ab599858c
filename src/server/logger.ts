/**
 * Structured JSON logs (pino). Credentials are redacted by path as a second line of defence: no code
 * logs them on purpose, but a header object or a context logged by mistake still shows `[redacted]`.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

const REDACT_PATHS = [
  'authorization',
  'credential',
  'headers.authorization',
  'req.headers.authorization',
  '*.authorization',
  '*.credential',
  '*.headers.authorization',
  'connectionParams',
  '*.connectionParams',
  // Operator API keys travel in this header.
  'headers["x-api-key"]',
  'req.headers["x-api-key"]',
  '*.headers["x-api-key"]',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'gsms-graphql' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}
