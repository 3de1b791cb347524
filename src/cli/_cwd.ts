/** The folder relative paths are taken from, when jobctl runs as a Deno task of its repository. */
import { fileURLToPath } from "node:url";
import { UsageError } from "../util/errors.ts";

/** The repository folder, where deno.json and main.ts are; not a file: URL in a compiled binary. */
const PROGRAM_DIR = new URL("../../", import.meta.url);

/**
 * Makes the caller's folder the current one when jobctl runs as a Deno task of its repository.
 * Deno runs a task in the deno.json folder and puts the folder it was started in into
 * $INIT_CWD, so `deno task --cwd REPO jobctl validate` would otherwise read the repository's
 * jobs.yaml instead of the caller's; jobs.yaml, --config, --db and init's folder are then taken
 * from the caller's folder. Anywhere else (an installed or compiled jobctl, a process started
 * in another folder) nothing changes.
 */
export function useCallersFolder(): void {
  const caller = Deno.env.get("INIT_CWD");
  if (!caller || PROGRAM_DIR.protocol !== "file:" || !isProgramDir(Deno.cwd())) return;
  try {
    Deno.chdir(caller);
  } catch (err) {
    throw new UsageError(
      `Cannot work in "${caller}", the folder deno task was started in ($INIT_CWD): ${
        (err as Error).message
      }`,
    );
  }
}

function isProgramDir(dir: string): boolean {
  try {
    return Deno.realPathSync(dir) === Deno.realPathSync(fileURLToPath(PROGRAM_DIR));
  } catch {
    return false;
  }
}
