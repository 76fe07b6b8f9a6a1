import { pino, destination as pinoDestination, stdTimeFunctions, type Logger, type DestinationStream } from 'pino';

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
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: 'hookrelay',
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: stdTimeFunctions.isoTime,
    },
    options.destination ?? pinoDestination({ fd: 1, sync: false }),
  );
}

export function scoped(logger: Logger, scope: LogScope): Logger {
  return logger.child(scope);
}
