import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear. Secrets should never reach a log call at all; this is the
 * second line of defence for a header object or a config passed whole by mistake.
 */
const REDACT = [
  'authorization',
  'Authorization',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.access_token',
  '*.refresh_token',
  '*.client_secret',
  '*.password',
  '*.apiKey',
  '*.token',
  'access_token',
  'refresh_token',
  'client_secret',
  'password',
  'apiKey',
  'token',
];

/**
 * JSON logs on fd 2: stdout belongs to the MCP stdio transport. `destination` is for tests that read what the
 * server logs (the secrets regression test), with the same redaction.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', destination: DestinationStream = pino.destination({ fd: 2, sync: true })): Logger {
  return pino({ level, base: { name: 'sales-access-mcp' }, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}

/** A logger that drops everything: for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
