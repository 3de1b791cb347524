/** `jobctl metrics`: the Prometheus metrics, on stdout or written for node_exporter. */
import { dirname, join } from "node:path";
import { configPath, parseCommandArgs } from "./_args.ts";
import { openForReading } from "./_ops.ts";
import { loadRuntime } from "./_runtime.ts";
import { COMMON_HELP, EXIT } from "./mod.ts";
import { renderMetrics } from "../ops/metrics.ts";
import { UsageError } from "../util/errors.ts";

const OPTIONS = { textfile: { type: "string" } } as const;

/** What `jobctl metrics --help` prints. */
export const HELP = `Usage: jobctl metrics [--textfile PATH]

Prints every job's metrics in the Prometheus text format (the same as the dashboard's /metrics).
  --textfile PATH   write them to PATH instead, atomically (for node_exporter's textfile
                    collector: PATH ends in .prom, in its --collector.textfile.directory)

${COMMON_HELP}`;

/** Runs `jobctl metrics`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("metrics", args, OPTIONS);
  const { config, dbPath } = await loadRuntime(values, configPath);
  const db = await openForReading(dbPath);
  let text: string;
  try {
    text = await renderMetrics(db, config);
  } finally {
    await db.close();
  }
  if (values.textfile === undefined) {
    await Deno.stdout.write(new TextEncoder().encode(text));
    return EXIT.ok;
  }
  await writeAtomically(values.textfile, text);
  return EXIT.ok;
}

/** A scrape never reads a half-written file: write beside it, then rename over it. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const scratch = join(dirname(path), `.${crypto.randomUUID()}.tmp`);
  try {
    await Deno.writeTextFile(scratch, text);
    await Deno.rename(scratch, path);
  } catch (err) {
    await Deno.remove(scratch).catch(() => {});
    throw new UsageError(`--textfile: cannot write "${path}": ${(err as Error).message}`);
  }
}
