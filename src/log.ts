import { pino, destination as pinoDestination, stdTimeFunctions, type Logger, type DestinationStream } from 'pino';
import { createRequire } from 'node:module';
import { logFormatFrom, type LogFormat } from './config/log-format.js';

export type { Logger } from 'pino';

/** Header and config fields that never reach a log line. */
export const REDACTED_PATHS = [
  'secret',
  'secrets',
  'token',
  'signingSecret',
  'headers.authorization',
  'headers.cookie',
  'headers["x-cerebrium-webhook-signature"]',
  'headers["webhook-signature"]',
  'headers["x-hub-signature-256"]',
  'headers["x-signature-256"]',
  'headers["x-webhook-secret"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-cerebrium-webhook-signature"]',
  'req.headers["webhook-signature"]',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-signature-256"]',
  'req.headers["x-webhook-secret"]',
];

/** The fixed set of keys child loggers are scoped with. */
export interface LogScope {
  component?: string;
  source?: string;
  eventId?: string;
  destination?: string;
  deliveryId?: string;
  attempt?: number;
}

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
  /** Default: `LOG_FORMAT` from the environment (every thread and process that logs reads the same). */
  format?: LogFormat;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? pinoDestination({ fd: 1, sync: false });
  const format = options.format ?? logFormatFrom(process.env);
  return pino(
    {
      name: 'hookrelay',
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: stdTimeFunctions.isoTime,
    },
    format === 'pretty' ? prettyStream(destination) : destination,
  );
}

type FlushableStream = DestinationStream & { flush?: (callback: (error?: Error) => void) => void; flushSync?: () => void };

/**
 * `LOG_FORMAT=pretty`: each JSON line is turned into a human line before it is written, in the
 * calling thread, to the same destination the JSON would go to. No transport worker thread:
 * lines keep their order with everything else written there, and `logger.flush()` on exit
 * still reaches the destination. One line per record (extra keys inline), except an error's
 * stack, so the supervisor's line-by-line forwarding keeps each record whole.
 */
function prettyStream(destination: FlushableStream): FlushableStream {
  // Loaded only in pretty mode: every relay start (and its delivery thread) would pay ~13 ms for it.
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const prettify = prettyFactory({ singleLine: true, colorize: false, translateTime: 'UTC:HH:MM:ss.l', ignore: 'hostname' });
  return {
    write: (line: string) => destination.write(prettify(line)),
    flush: (callback) => (destination.flush ? destination.flush(callback) : callback()),
    flushSync: () => destination.flushSync?.(),
  };
}

export function scoped(logger: Logger, scope: LogScope): Logger {
  return logger.child(scope);
}
