import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';

/** pino-pretty is loaded only when asked for (LOG_FORMAT=pretty): a default start does not parse it. */
const requireCjs = createRequire(import.meta.url);

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

function loggerOptions(level: string) {
  return { level, base: { name: 'sales-access-mcp' }, redact: { paths: REDACT, censor: '[redacted]' } };
}

/**
 * Logs on fd 2: stdout belongs to the MCP stdio transport. JSON by default (for log collectors); `pretty`
 * (LOG_FORMAT=pretty) formats lines for a person at a terminal, in this thread and synchronously, so a line is
 * out before the process exits, like the JSON destination.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', format: 'json' | 'pretty' = 'json'): Logger {
  const options = loggerOptions(level);
  if (format === 'pretty') {
    const pretty = requireCjs('pino-pretty') as typeof import('pino-pretty');
    return pino(options, pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, ignore: 'pid,hostname,name' }));
  }
  return pino(options, pino.destination({ fd: 2, sync: true }));
}

/**
 * The server's logger, with the same redaction, writing to `destination` instead of fd 2: for tests that read
 * what the server logs (the secrets regression test).
 */
export function createLoggerTo(destination: DestinationStream, level = 'info'): Logger {
  return pino(loggerOptions(level), destination);
}

/** A logger that drops everything: for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
