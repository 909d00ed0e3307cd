/**
 * One-line logs for the local cloud. Each service logs through a child with its name, so a
 * refusal reads `[broker] denied ...`. Tests pass a recording logger to assert on refusals.
 */
export interface LocalLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  child(service: string): LocalLogger;
}

export function consoleLogger(
  prefix = 'local',
  sink: (line: string) => void = (l) => console.error(l),
): LocalLogger {
  const line = (level: string, message: string) =>
    sink(`${new Date().toISOString()} ${level} [${prefix}] ${message}`);
  return {
    info: (m) => line('INFO ', m),
    warn: (m) => line('WARN ', m),
    error: (m) => line('ERROR', m),
    child: (service) => consoleLogger(`${prefix === 'local' ? '' : `${prefix}/`}${service}`, sink),
  };
}

/** Keeps every line in memory; for tests. */
export function recordingLogger(): LocalLogger & { readonly lines: string[] } {
  const lines: string[] = [];
  const make = (prefix: string): LocalLogger => ({
    info: (m) => lines.push(`INFO [${prefix}] ${m}`),
    warn: (m) => lines.push(`WARN [${prefix}] ${m}`),
    error: (m) => lines.push(`ERROR [${prefix}] ${m}`),
    child: (s) => make(s),
  });
  return Object.assign(make('local'), { lines });
}

export const silentLogger: LocalLogger = {
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

/** Prints an error for people: message and cause, never `{}`. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause ? ` (cause: ${errorText(err.cause)})` : '';
    return `${err.name}: ${err.message}${cause}`;
  }
  return String(err);
}
