import { pino, type Logger } from 'pino';
import type { AnvilConfig } from './config/schema.ts';
import { prettyDestination } from './log/pretty.ts';

export type { Logger };

/**
 * Logs never go to stdout: under `--stdio` stdout carries nothing but protocol. They go to
 * stderr (fd 2) or to the configured file, and secret-bearing fields are censored. On a terminal
 * they are readable lines (log/pretty.ts); piped or in a file, JSON lines (`log.format` decides).
 */
export function createLogger(config: Pick<AnvilConfig, 'log'>, name = 'anvil'): Logger {
  const format = config.log.format ?? 'auto';
  const stderrIsTerminal = !config.log.file && process.stderr.isTTY === true;
  const target = config.log.file
    ? pino.destination({ dest: config.log.file, mkdir: true, sync: false })
    : pino.destination({ fd: 2, sync: false });
  const pretty = format === 'pretty' || (format === 'auto' && stderrIsTerminal);
  const destination = pretty ? prettyDestination(target, stderrIsTerminal && !process.env.NO_COLOR) : target;
  return pino(
    {
      name,
      level: config.log.level,
      redact: {
        paths: ['authorization', '*.authorization', 'headers.authorization', 'key', '*.key', 'token', '*.token', 'password', '*.password', 'databaseUrl', 'redisUrl'],
        censor: '***',
      },
    },
    destination,
  );
}

/** A logger that drops everything, for tests and one-shot commands that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
