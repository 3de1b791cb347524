/**
 * `deno task bench`: every benchmark, each beside a baseline measured in the same run.
 * `deno task bench db runner` runs only the named ones; `--large` adds the slow large cases.
 */
const flags = new Set(Deno.args.filter((a) => a.startsWith("--")));
const BENCHES: Record<string, () => Promise<unknown>> = {
  db: async () => (await import("./db_bench.ts")).benchDb(),
  runner: async () => (await import("./runner_bench.ts")).benchRunner(),
  worker: async () => (await import("./worker_bench.ts")).benchWorker(),
  cli: async () => (await import("./cli_bench.ts")).benchCli(flags),
  discovery: async () => (await import("./discovery_bench.ts")).benchDiscovery(),
  dashboard: async () => (await import("./dashboard_bench.ts")).benchDashboard(),
  pg: async () => (await import("./pg_bench.ts")).benchPg(),
};

const names = Deno.args.filter((a) => !a.startsWith("--"));
const wanted = names.length ? names : Object.keys(BENCHES);
for (const name of wanted) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`Unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(", ")}`);
    Deno.exit(2);
  }
  console.log(`\n# ${name}`);
  await bench();
}
