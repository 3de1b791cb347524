/** The one way this program ends itself: child process groups first, then the process. */
import { killAllGroups } from "./process_group.ts";

// Taken when this module is first evaluated (main.ts imports it), before anything can replace
// Deno.exit to keep handlers from ending the run.
const realExit = Deno.exit;

/**
 * Kills every child process group still running and exits with `code` at once, whatever timers,
 * sockets or promises handlers left behind.
 */
export function exitProcess(code: number): never {
  killAllGroups();
  return realExit(code);
}
