/**
 * A small structured logger. The node core takes a `Logger` and never decides where lines go;
 * the daemon writes them to `<datadir>/coulomb.log` (and stderr when asked).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that prefixes every line with a subsystem name, e.g. `PEER`. */
  child(subsystem: string): Logger;
}

export type LogSink = (line: string) => void;

function render(fields: Record<string, unknown> | undefined): string {
  if (!fields) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const s = typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
    parts.push(`${k}=${/\s/.test(s) ? JSON.stringify(s) : s}`);
  }
  return parts.length ? ' ' + parts.join(' ') : '';
}

export function createLogger(sinks: LogSink[], minLevel: LogLevel = 'info', subsystem = 'NODE', clock: () => Date = () => new Date()): Logger {
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < LEVELS[minLevel]) return;
    const line = `${clock().toISOString()} [${level.toUpperCase()}] ${subsystem}: ${msg}${render(fields)}`;
    for (const sink of sinks) {
      try {
        sink(line);
      } catch {
        // A failing sink (full disk, closed stream) must never take the node down.
      }
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (name) => createLogger(sinks, minLevel, name, clock),
  };
}

/** A logger that keeps lines in memory; handy for tests that assert on logged reasons. */
export function memoryLogger(minLevel: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger([(l) => lines.push(l)], minLevel);
  return Object.assign(logger, { lines });
}

export const silentLogger: Logger = createLogger([]);
