/** Line-oriented logging: plain text for people, JSON lines for servers. */

/** Where log lines go; `data` is printed as key=value pairs or JSON fields. */
export interface Logger {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/** Output format of log lines. */
export type LogFormat = "text" | "json";

/** Options of createLogger(). */
export interface LoggerOptions {
  /** Where each line goes, without its newline. Default: stderr. */
  write?: (line: string) => void;
}

/** A logger writing lines in `format`, to stderr unless `options.write` takes them. */
export function createLogger(format: LogFormat = "text", options: LoggerOptions = {}): Logger {
  const out = options.write ?? ((line: string) => console.error(line));
  const write = (level: string, message: string, data?: Record<string, unknown>): void => {
    const line = format === "json"
      ? JSON.stringify({ ts: new Date().toISOString(), level, message, ...data })
      : `${new Date().toISOString()} ${level.padEnd(5)} ${message}${formatData(data)}`;
    out(line);
  };
  return {
    info: (m, d) => write("info", m, d),
    warn: (m, d) => write("warn", m, d),
    error: (m, d) => write("error", m, d),
  };
}

/** A logger that drops everything; for library callers that want silence. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

function formatData(data?: Record<string, unknown>): string {
  if (!data) return "";
  const parts = Object.entries(data)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return parts.length ? " " + parts.join(" ") : "";
}
