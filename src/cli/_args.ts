/** Command-line parsing shared by every command: strict flags, clear errors. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../util/errors.ts";

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  config: { type: "string", short: "c" },
  db: { type: "string" },
  json: { type: "boolean" },
  "log-format": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

/** Whether `args` ask for help (`--help` or `-h` before any `--`): then nothing else is done. */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
}

/** Parses `args` for `command`; unknown flags and missing values become a UsageError. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals,
      strict: true,
    });
  } catch (err) {
    throw usageErrorOf(command, err);
  }
}

/** parseArgs' complaint about the arguments of `command` as a one-line UsageError. */
export function usageErrorOf(command: string, err: unknown): UsageError {
  const message = err instanceof Error ? err.message : String(err);
  return new UsageError(`jobctl ${command}: ${message.replace(/\. To specify.*$/s, "")}`);
}

/** Parses a positive integer flag value, naming the flag when it is not one. */
export function parsePositiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new UsageError(`${flag} expects a positive whole number, got "${value}"`);
  }
  return n;
}

/** The config path: --config, then $JOBS_CONFIG, then ./jobs.yaml. */
export function configPath(flag: string | undefined): string {
  return flag ?? Deno.env.get("JOBS_CONFIG") ?? "jobs.yaml";
}
