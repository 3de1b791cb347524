/** jobs: a pipeline runner. This file only dispatches to src/cli/<command>.ts. */
import { describeError, EXPECTED_ERRORS } from "./src/util/errors.ts";
import { EXIT, USAGE } from "./src/cli/mod.ts";

type Command = { run(args: string[]): Promise<number> };

const COMMANDS: Record<string, () => Promise<Command>> = {
  run: () => import("./src/cli/run.ts"),
  test: () => import("./src/cli/test.ts"),
  validate: () => import("./src/cli/validate.ts"),
  status: () => import("./src/cli/status.ts"),
  items: () => import("./src/cli/items.ts"),
  item: () => import("./src/cli/item.ts"),
  events: () => import("./src/cli/events.ts"),
  costs: () => import("./src/cli/costs.ts"),
  pause: () => import("./src/cli/pause.ts"),
  unpause: () => import("./src/cli/unpause.ts"),
  wake: () => import("./src/cli/wake.ts"),
  retry: () => import("./src/cli/retry.ts"),
  reprocess: () => import("./src/cli/reprocess.ts"),
  doctor: () => import("./src/cli/doctor.ts"),
  dashboard: () => import("./src/cli/dashboard.ts"),
  migrate: () => import("./src/cli/migrate.ts"),
  prune: () => import("./src/cli/prune.ts"),
  metrics: () => import("./src/cli/metrics.ts"),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(USAGE);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version") {
    console.log("jobs 0.1.0");
    return EXIT.ok;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`jobs: unknown command "${name}"; run "jobs help" for the list`);
    return EXIT.usage;
  }
  try {
    return await (await load()).run(rest);
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  const name = err instanceof Error ? err.name : "";
  if (EXPECTED_ERRORS.has(name)) {
    console.error(describeError(err));
    return name === "ConfigError" || name === "UsageError" ? EXIT.usage : EXIT.error;
  }
  console.error("jobs: internal error:", err);
  return EXIT.internal;
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
