/** The one way this program ends itself: child process groups first, then the process. */
import { groupsTerminated, killAllGroups } from "./process_group.ts";

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

/**
 * Exits once commands already sent SIGTERM (a stage past its timeout) have had the rest of their
 * grace to exit, as they would have had the run gone on; then as exitProcess().
 */
export async function exitAfterGrace(code: number): Promise<never> {
  await groupsTerminated();
  return exitProcess(code);
}
