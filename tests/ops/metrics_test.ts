import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";
import { loadConfig } from "../../src/config/load.ts";
import { startDashboard } from "../../src/dashboard/server.ts";
import { silentLogger } from "../../src/util/log.ts";
import { Workspace } from "../runner/_helpers.ts";

const HANDLER = `export default async function handle(item, ctx) {
  ctx.cost(0.25);
  if (item.data.bad) {
    const err = new Error("bad");
    err.name = "PermanentError";
    throw err;
  }
  return 1;
}
`;

const YAML = `jobs:
  feed:
    discovery: { strategy: static, items: [{ key: a }, { key: b }, { key: "c\\\\\\"d", bad: true }] }
    budget: { daily_usd: 2 }
    stages:
      - { name: fetch, handler: ./h.ts, retries: 0 }
      - { name: parse, handler: ./h.ts }
`;

const PROMTOOL = (async () => {
  try {
    return (await new Deno.Command("promtool", { args: ["--version"] }).output()).success;
  } catch {
    return false;
  }
})();

/** `promtool check metrics` on `text`: its complaints, "" when there are none. */
async function promtool(text: string): Promise<string> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return out.success ? said.trim() : `exit ${out.code}: ${said}`;
}

Deno.test("jobctl metrics writes exposition text that promtool accepts, with every family", async (t) => {
  await using ws = await Workspace.create({ "h.ts": HANDLER, "jobs.yaml": YAML });
  assert.equal((await ws.jobs(["run"])).code, EXIT.failed);
  const out = await ws.jobs(["metrics"]);
  assert.equal(out.code, EXIT.ok, out.stderr);
  const text = out.stdout;
  for (
    const line of [
      'jobctl_items{job="feed",status="done"} 2',
      'jobctl_items{job="feed",status="failed"} 1',
      'jobctl_stage_rows{job="feed",stage="parse",status="pending"} 1',
      'jobctl_stage_runs_total{job="feed",stage="fetch",outcome="done"} 2',
      'jobctl_stage_runs_total{job="feed",stage="fetch",outcome="failed"} 1',
      'jobctl_stage_duration_seconds_count{job="feed",stage="fetch"} 3',
      'jobctl_cost_usd_total{job="feed",stage="fetch"} 0.75',
      'jobctl_cost_usd_total{job="feed",stage="parse"} 0.5',
      'jobctl_budget_remaining_usd{job="feed"} 0.75',
      'jobctl_paused{job="feed"} 0',
      'jobctl_discovery_failures_total{job="feed"} 0',
      "# TYPE jobctl_stage_duration_seconds summary",
      "# TYPE jobctl_stage_runs_total counter",
    ]
  ) assert.ok(text.split("\n").includes(line), `missing ${line}\n${text}`);
  assert.match(
    text,
    /^jobctl_stage_duration_seconds\{job="feed",stage="fetch",quantile="0\.95"\} [\d.]+$/m,
  );
  assert.match(text, /^jobctl_last_discovery_timestamp_seconds\{job="feed"\} \d{10}\.?\d*$/m);

  await t.step({
    name: "promtool check metrics accepts it",
    ignore: !(await PROMTOOL),
    fn: async () => assert.equal(await promtool(text), ""),
  });
  if (!(await PROMTOOL)) console.warn("promtool is not installed: the exposition was not parsed");

  const target = ws.path("jobctl.prom");
  const written = await ws.jobs(["metrics", "--textfile", target]);
  assert.equal(written.code, EXIT.ok, written.stderr);
  assert.equal(written.stdout, "");
  const file = await Deno.readTextFile(target);
  assert.equal(
    file.replace(/^jobctl_oldest.*\n/gm, ""),
    text.replace(/^jobctl_oldest.*\n/gm, ""),
  );
  assert.deepEqual([...Deno.readDirSync(ws.dir)].filter((e) => e.name.endsWith(".tmp")), []);
  const bad = await ws.jobs(["metrics", "--textfile", ws.path("missing/dir/x.prom")]);
  assert.equal(bad.code, EXIT.usage);
  assert.match(bad.stderr, /^--textfile: cannot write ".*missing\/dir\/x\.prom": /);
});

Deno.test("GET /metrics on the dashboard follows the pages' token rules", async () => {
  await using ws = await Workspace.create({ "h.ts": HANDLER, "jobs.yaml": YAML });
  assert.equal((await ws.jobs(["run"])).code, EXIT.failed);
  const config = await loadConfig(ws.path("jobs.yaml"));
  const db = await ws.openDb();
  const stop = new AbortController();
  try {
    const dash = await startDashboard(db, config, {
      port: 0,
      token: "t0ken",
      signal: stop.signal,
      log: silentLogger,
    });
    const denied = await fetch(`${dash.url}metrics`);
    await denied.body?.cancel();
    assert.equal(denied.status, 401);
    const ok = await fetch(`${dash.url}metrics`, { headers: { authorization: "Bearer t0ken" } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const text = await ok.text();
    assert.match(text, /^jobctl_items\{job="feed",status="done"\} 2$/m);
    if (await PROMTOOL) assert.equal(await promtool(text), "");
    stop.abort();
    await dash.finished;
  } finally {
    stop.abort();
    await db.close();
  }
});
