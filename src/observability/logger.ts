/**
 * pino, as JSON lines in production (NODE_ENV=production or --log-format json)
 * and as readable lines otherwise.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';
export type { Logger };

export function defaultLogFormat(env: NodeJS.ProcessEnv = process.env): LogFormat {
  return env.NODE_ENV === 'production' ? 'json' : 'pretty';
}

export function createLogger(options: { format: LogFormat; debug: boolean; destination?: NodeJS.WritableStream }): Logger {
  const level = options.debug ? 'debug' : 'info';
  const destination = options.destination ?? process.stdout;
  if (options.format === 'json') {
    // Level names ("info", not 30): what log shippers and people grepping expect.
    return pino(
      { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
      destination,
    );
  }
  const stream = pretty({
    sync: true,
    destination,
    colorize: Boolean((destination as NodeJS.WriteStream).isTTY),
    ignore: 'pid,hostname',
    translateTime: 'HH:MM:ss.l',
    singleLine: true,
  });
  return pino({ level, base: undefined }, stream);
}

/** A logger that drops everything (embedding without logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
