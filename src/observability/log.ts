import { pino, type Logger } from 'pino';

// Secrets travel in connection_info, connectors' CHAP fields, provider_auth and
// request headers; every path a log call might carry them on is censored here so
// a careless log line cannot leak one.
export const REDACTED_PATHS = [
  'auth_password',
  '*.auth_password',
  '*.*.auth_password',
  'password',
  '*.password',
  '*.*.password',
  'chap',
  '*.chap',
  'providerAuth',
  '*.providerAuth',
  'provider_auth',
  '*.provider_auth',
  'req.headers["x-auth-token"]',
  'req.headers["x-service-token"]',
  'headers["x-auth-token"]',
  'headers["x-service-token"]',
];

export function createLogger(level: string = process.env.CINDERBLOCK_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '***' } });
}

export type { Logger };
