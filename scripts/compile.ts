/**
 * `deno task compile [OUTPUT]`: builds the single binary (default dist/jobctl), then runs it
 * with --version to check that what was built is jobctl. Given a `DENORT_BIN` that is not a
 * `denort` of this Deno version (the `deno` binary itself, say), `deno compile` reports success
 * and writes a copy of that runtime which ignores the embedded program; such an output is
 * deleted and the task fails. A failed build never leaves an empty output folder behind.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PROGRAM, VERSION } from "../src/version.ts";
import { jobctlFlags } from "./_jobctl_flags.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));

/** Files the program reads at run time, embedded beside the modules. */
const INCLUDES = ["src/dashboard/assets", "src/config/_module_probe_worker.ts"];

/** Longest the built binary may take to print its version. */
const CHECK_TIMEOUT_MS = 60_000;

async function main(args: string[]): Promise<number> {
  const output = resolve(args[0] ?? join(REPO, "dist", PROGRAM));
  const folder = dirname(output);
  const folderExisted = await exists(folder);
  const compiled = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      // What the binary may do and its heap settings, as with `deno task jobctl`: no --allow-all.
      ...jobctlFlags(),
      ...INCLUDES.flatMap((path) => ["--include", path]),
      "--output",
      output,
      "main.ts",
    ],
    cwd: REPO,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  const problem = compiled.success ? await checkBinary(output) : compileFailure();
  if (problem === undefined) {
    const mb = ((await Deno.stat(output)).size / 1e6).toFixed(0);
    console.error(`Built ${output} (${PROGRAM} ${VERSION}, ${mb} MB)`);
    return 0;
  }
  if (!folderExisted) await Deno.remove(folder, { recursive: true }).catch(() => {});
  console.error(problem);
  return 1;
}

/** Why `output` is not this program, or undefined when `output --version` names it. */
async function checkBinary(output: string): Promise<string | undefined> {
  const expected = `${PROGRAM} ${VERSION}`;
  let printed: string;
  try {
    const run = await new Deno.Command(output, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
    }).output();
    printed = new TextDecoder().decode(run.stdout).trim();
  } catch (err) {
    printed = `nothing: ${(err as Error).message}`;
  }
  if (printed === expected) return undefined;
  await Deno.remove(output);
  const firstLine = printed.split("\n")[0];
  return `Deleted ${output}: it is not ${PROGRAM}; "${output} --version" printed ` +
    `"${firstLine}" instead of "${expected}". ${denortAdvice()}`;
}

function compileFailure(): string {
  return `deno compile failed (see above); nothing was built. If it could not get denort: ${denortAdvice()}`;
}

function denortAdvice(): string {
  const denort = Deno.env.get("DENORT_BIN");
  const what = `a denort binary of Deno ${Deno.version.deno} (the runtime deno compile embeds ` +
    "the program in), not deno itself";
  return denort === undefined
    ? "deno compile downloads denort from Deno's servers; without access to them, set " +
      `DENORT_BIN to ${what}`
    : `DENORT_BIN must be ${what}; it is "${denort}"`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
