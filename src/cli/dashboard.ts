/** `jobctl dashboard`: serve the web dashboard until SIGINT/SIGTERM. */
import { isLoopback } from "../dashboard/access.ts";
import { startDashboard } from "../dashboard/server.ts";
import { UsageError } from "../util/errors.ts";
import { configPath, parseCommandArgs } from "./_args.ts";
import { loadRuntime, loggerFor, openStore } from "./_runtime.ts";
import { COMMON_HELP, EXIT } from "./mod.ts";

const OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  token: { type: "string" },
} as const;

/** What `jobctl dashboard --help` prints. */
export const HELP = `Usage: jobctl dashboard [--host 127.0.0.1] [--port 8377] [--token TOKEN]

Serves a web dashboard of every job in jobs.yaml: an overview, a page per job (stage counts,
throughput per hour, cost per day, p50/p95 stage durations, failures by error, recent events)
and a page per item, with pause, unpause, wake and retry buttons. Prints its URL, then serves
until Ctrl-C.
  --host HOST    address to listen on (default 127.0.0.1); any address that is not loopback
                 needs --token
  --port PORT    port (default 8377; 0 picks a free one)
  --token TOKEN  secret every request must carry: "Authorization: Bearer TOKEN", or open
                 the URL once with ?token=TOKEN to get a cookie (default $JOBS_DASHBOARD_TOKEN)
  --log-format text|json  log lines as text or JSON lines (default text)

${COMMON_HELP}`;

/** Runs `jobctl dashboard`; returns the exit code once the server has stopped. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("dashboard", args, OPTIONS);
  const log = loggerFor(values["log-format"]);
  const hostname = values.host ?? "127.0.0.1";
  const port = parsePort(values.port);
  const token = values.token ?? Deno.env.get("JOBS_DASHBOARD_TOKEN");
  if (token !== undefined && token.trim() === "") throw new UsageError("--token must not be empty");
  if (token === undefined && !isLoopback(hostname)) {
    throw new UsageError(
      `Serving on "${hostname}" needs --token: off loopback every request must carry a secret`,
    );
  }
  const { config, dbPath } = await loadRuntime(values, configPath);
  const db = await openStore(dbPath);
  const controller = new AbortController();
  const stop = () => controller.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  try {
    const dashboard = await listen(
      `${hostname}:${port}`,
      () => startDashboard(db, config, { hostname, port, token, signal: controller.signal, log }),
    );
    for (const s of signals) Deno.addSignalListener(s, stop);
    console.log(`Dashboard: ${dashboard.url}`);
    await dashboard.finished;
    return EXIT.ok;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, stop);
    await db.close();
  }
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 8377;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new UsageError(`--port expects a whole number from 0 to 65535, got "${value}"`);
  }
  return port;
}

/** Starts the server, turning "address in use" or "cannot assign" into a clear usage error. */
async function listen<T>(address: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse || err instanceof Deno.errors.AddrNotAvailable) {
      throw new UsageError(`Cannot listen on "${address}": ${(err as Error).message}`, {
        cause: err,
      });
    }
    throw err;
  }
}
