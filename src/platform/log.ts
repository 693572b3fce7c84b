// pino JSON logs; one root logger per process, children per component.
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env['ZOORAFT_LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ level, base: { pid: process.pid } });
}

/** A logger that drops everything (unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
