/** `jobctl dashboard` as a child process in a folder with jobs.yaml, until disposed. */
import { command } from "../cli/_seed.ts";
import { PROCESS_DEADLINE_MS, withDeadline } from "../_deadline.ts";

/** A running dashboard; disposing stops it with SIGINT and waits for it to end. */
export interface Dashboard extends AsyncDisposable {
  /** Its address, ending in "/". */
  url: string;
  child: Deno.ChildProcess;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number>;
}

/**
 * Starts `jobctl dashboard --port 0 ARGS` in `dir` (with its jobs.yaml and, unless it says
 * otherwise, jobs.sqlite); resolves once it prints its address.
 */
export async function startDashboard(dir: string, args: string[] = []): Promise<Dashboard> {
  const child = command(dir, ["dashboard", "--port", "0", ...args]).spawn();
  const exited = child.status.then((s) => s.code);
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const url = await withDeadline(
    "the dashboard to print its address",
    PROCESS_DEADLINE_MS,
    async () => {
      let address: string | undefined;
      while (address === undefined) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`The dashboard did not start: ${out}${await stderr}`);
        out += value;
        address = out.match(/^Dashboard: (http:\/\/\S+)$/m)?.[1];
      }
      return address;
    },
    () => child.kill("SIGKILL"),
  );
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return {
    url,
    child,
    exited,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGINT");
      } catch {
        // Already ended.
      }
      await withDeadline("the dashboard to stop on SIGINT", PROCESS_DEADLINE_MS, exited, () => {
        child.kill("SIGKILL");
      });
      await withDeadline("the dashboard's stderr to close", PROCESS_DEADLINE_MS, stderr);
    },
  };
}
