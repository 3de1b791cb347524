/**
 * The Deno flags jobctl runs with: its permissions and its V8 heap settings. They are written in
 * one place, the `jobctl` task of deno.json; `deno task compile` embeds them in the binary, the
 * command-line benchmark runs with them, and README's install lines repeat them (a test compares).
 */
import { fileURLToPath } from "node:url";

const DENO_JSON = fileURLToPath(new URL("../deno.json", import.meta.url));

/** The words of a task that runs jobctl: `deno run FLAGS… main.ts [command]`. */
const TASK = /^deno run ((?:--\S+ )+)main\.ts(?: \w+)?$/;

/** The flags between `deno run` and `main.ts` in deno.json's task `name` (default `jobctl`). */
export function jobctlFlags(name = "jobctl"): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(DENO_JSON)).tasks as Record<string, string>;
  const match = TASK.exec(tasks[name] ?? "");
  if (!match) throw new Error(`deno.json's task "${name}" is not "deno run FLAGS… main.ts"`);
  return match[1].trim().split(" ");
}
