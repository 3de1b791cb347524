/**
 * `deno task bench`: every benchmark, each beside a baseline measured in the same run.
 * `deno task bench db runner` runs only the named ones.
 */
const BENCHES: Record<string, () => Promise<unknown>> = {
  db: async () => (await import("./db_bench.ts")).benchDb(),
  runner: async () => (await import("./runner_bench.ts")).benchRunner(),
  worker: async () => (await import("./worker_bench.ts")).benchWorker(),
  discovery: async () => (await import("./discovery_bench.ts")).benchDiscovery(),
  dashboard: async () => (await import("./dashboard_bench.ts")).benchDashboard(),
  pg: async () => (await import("./pg_bench.ts")).benchPg(),
};

const wanted = Deno.args.length ? Deno.args : Object.keys(BENCHES);
for (const name of wanted) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`Unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(", ")}`);
    Deno.exit(2);
  }
  console.log(`\n# ${name}`);
  await bench();
}
