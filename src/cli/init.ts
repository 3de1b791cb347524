/** `jobctl init [DIR]`: write a working starting point into a new or empty folder. */
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { UsageError } from "../util/errors.ts";
import { usageErrorOf } from "./_args.ts";
import { INIT_FILES, type InitFile } from "./_init_files.ts";
import { EXIT } from "./mod.ts";

/** What `jobctl init --help` prints. */
export const HELP = `Usage: jobctl init [DIR]

Writes a starting point into DIR (default the current folder; created when missing): a
commented jobs.yaml with one job that runs offline, a module handler in TypeScript, a command
handler and a worker handler in Python (with jobs_worker.py, which speaks the worker protocol),
types for handlers and a .gitignore for the database files. Then
\`jobctl run\` in DIR runs the job. Nothing is ever overwritten: when one of the files exists
already, nothing is written and the exit code is 2.
  -h, --help   print this help and do nothing else`;

/** Runs `jobctl init`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const dir = parseDir(args);
  const existing = (await Promise.all(INIT_FILES.map((f) => exists(join(dir, f.path)))))
    .flatMap((found, i) => found ? [join(dir, INIT_FILES[i].path)] : []);
  if (existing.length) {
    throw new UsageError(
      `jobctl init writes nothing: ${existing.map((p) => `"${p}"`).join(", ")} already exist${
        existing.length === 1 ? "s" : ""
      }, and init never overwrites a file`,
    );
  }
  for (const file of INIT_FILES) await write(dir, file);
  console.log(summary(dir));
  return EXIT.ok;
}

function parseDir(args: string[]): string {
  let positionals: string[];
  try {
    ({ positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true }));
  } catch (err) {
    throw usageErrorOf("init", err);
  }
  if (positionals.length > 1) {
    throw new UsageError("jobctl init takes one folder at most: jobctl init [DIR]");
  }
  return positionals[0] ?? ".";
}

async function write(dir: string, file: InitFile): Promise<void> {
  const path = join(dir, file.path);
  await Deno.mkdir(dirname(path), { recursive: true });
  // createNew: a file that appeared since the check is still never overwritten.
  await Deno.writeTextFile(path, file.text, { createNew: true, mode: file.mode ?? 0o644 });
}

function summary(dir: string): string {
  const width = Math.max(...INIT_FILES.map((f) => f.path.length));
  const where = dir === "." ? "this folder" : dir;
  const cd = dir === "." ? "" : `cd ${dir} && `;
  return [
    `Wrote a starting point into ${where}:`,
    ...INIT_FILES.map((f) => `  ${f.path.padEnd(width)}  ${f.about}`),
    `Next: ${cd}jobctl validate && jobctl test -j hello && jobctl run`,
  ].join("\n");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
