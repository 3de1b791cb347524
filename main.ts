/** jobctl, the command of the jobs pipeline runner. This file only dispatches to src/cli/<command>.ts. */
import { describeError, EXPECTED_ERRORS } from "./src/util/errors.ts";
import { EXIT, USAGE } from "./src/cli/mod.ts";
import { wantsHelp } from "./src/cli/_args.ts";
import { useCallersFolder } from "./src/cli/_cwd.ts";
import { PROGRAM, VERSION } from "./src/version.ts";
import { exitAfterGrace, exitProcess } from "./src/util/exit.ts";

type Command = { HELP: string; run(args: string[]): Promise<number> };

const COMMANDS: Record<string, () => Promise<Command>> = {
  init: () => import("./src/cli/init.ts"),
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
  if (name === undefined || name === "--help" || name === "-h") {
    console.log(USAGE);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version") {
    console.log(`${PROGRAM} ${VERSION}`);
    return EXIT.ok;
  }
  // `jobctl help run` is `jobctl run --help`.
  const [commandName, args] = name === "help" && rest.length ? [rest[0], ["--help"]] : [name, rest];
  if (commandName === "help") {
    console.log(USAGE);
    return EXIT.ok;
  }
  const load = COMMANDS[commandName];
  if (!load) {
    console.error(
      `${PROGRAM}: unknown command "${commandName}"; run "${PROGRAM} help" for the list`,
    );
    return EXIT.usage;
  }
  try {
    const command = await load();
    if (wantsHelp(args)) {
      console.log(command.HELP);
      return EXIT.ok;
    }
    useCallersFolder();
    return await command.run(args);
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
  console.error(`${PROGRAM}: internal error:`, err);
  return EXIT.internal;
}

if (import.meta.main) {
  // Exits explicitly: a handler's leftover timer or socket must not keep a finished run alive.
  // An interrupted run exits at once: its shutdown grace is over.
  const code = await main(Deno.args);
  if (code === EXIT.interrupted) exitProcess(code);
  await exitAfterGrace(code);
}
