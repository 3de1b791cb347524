/** Facts about live processes, for tests that check that nothing was left running. */
import { outputWithin } from "./_deadline.ts";

/**
 * Pids of the live (not zombie) processes whose process group is `pgid`. Asks `ps`: Deno lets a
 * program list /proc only with --allow-all, which the tests do not have.
 */
export async function groupMembers(pgid: number): Promise<number[]> {
  const ps = new Deno.Command("ps", {
    args: ["-e", "-o", "pid=,pgid=,stat="],
    stdout: "piped",
  }).spawn();
  const out = await outputWithin(ps, "ps", 10_000);
  if (out.code !== 0) throw new Error(`ps failed with exit code ${out.code}`);
  return out.stdout.split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, group, state]) => Number(group) === pgid && !state?.startsWith("Z"))
    .map(([pid]) => Number(pid));
}

/**
 * Waits until no process of the groups `pgids` is alive; fails after `timeoutMs` naming what
 * still runs. Kills the survivors before failing, so that a failed test leaves nothing behind.
 */
export async function groupsGone(pgids: number[], timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (true) {
    const alive: string[] = [];
    for (const pgid of pgids) {
      for (const pid of await groupMembers(pgid)) alive.push(`${pid} (group ${pgid})`);
    }
    if (alive.length === 0) return;
    if (Date.now() > until) {
      for (const pgid of pgids) {
        try {
          Deno.kill(-pgid, "SIGKILL");
        } catch { /* gone meanwhile */ }
      }
      throw new Error(`Processes still alive ${timeoutMs} ms later: ${alive.join(", ")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Kills the groups `pgids()` names when disposed, so that a failing test leaves nothing running. */
export function killingGroups(pgids: () => Promise<number[]>): AsyncDisposable {
  return {
    async [Symbol.asyncDispose]() {
      for (const pgid of await pgids()) {
        try {
          Deno.kill(-pgid, "SIGKILL");
        } catch { /* already gone, as it should be */ }
      }
    },
  };
}
