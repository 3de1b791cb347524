import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { project, settle } from "../doctor/_seed.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../../deno.json", import.meta.url));
const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
];

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `jobs doctor ARGS` as a child process in `cwd`. */
async function doctor(cwd: string, args: string[] = []): Promise<Outcome> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", DENO_JSON, ...PERMISSIONS, MAIN, "doctor", ...args],
    cwd,
    env: { NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await command.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

Deno.test("jobs doctor exits 0 and says so when everything is healthy", async () => {
  await using p = await project();
  const db = await p.open();
  await db.upsertItems({ jobId: "feed", stages: ["fetch", "parse"], items: [] });
  const result = await doctor(p.dir);
  assert.equal(result.stderr, "");
  assert.equal(result.stdout, "Healthy: no problems found\n");
  assert.equal(result.code, 0);
});

Deno.test("jobs doctor prints each warning with its fix and exits 1", async () => {
  await using p = await project();
  const db = await p.open();
  await db.pauseJob("feed", "too many failures");
  const result = await doctor(p.dir);
  const lines = result.stdout.split("\n");
  assert.equal(lines[0], 'WARNING Job "feed" is paused: too many failures');
  assert.match(lines[1], /^ {8}It has been paused since \d{4}-\d\d-\d\dT[\d:]+Z; none of its/);
  assert.deepEqual(lines.slice(2), [
    "        fix: jobs unpause -j feed",
    "0 errors, 1 warning, 0 notes",
    "",
  ]);
  assert.equal(result.code, 1);
});

Deno.test("jobs doctor exits 2 on an error finding", async () => {
  await using p = await project();
  await Deno.remove(`${p.dir}/handlers/fetch.ts`);
  await p.open();
  const result = await doctor(p.dir);
  assert.equal(result.code, 2);
  assert.equal(result.stdout.split("\n")[0], `ERROR   Handler file of stage "fetch" is missing`);
  assert.equal(result.stderr, "");
});

Deno.test("jobs doctor --json prints { findings, fixed } with the same exit code", async () => {
  await using p = await project();
  const db = await p.open();
  await db.pauseJob("feed", "by hand");
  const result = await doctor(p.dir, ["--json"]);
  const report = JSON.parse(result.stdout);
  assert.deepEqual(Object.keys(report), ["findings", "fixed"]);
  assert.deepEqual(report.fixed, []);
  assert.deepEqual(report.findings.map((f: Record<string, unknown>) => Object.keys(f)), [
    ["id", "severity", "job", "title", "explanation", "fix", "safeFix"],
  ]);
  assert.deepEqual(
    [report.findings[0].id, report.findings[0].severity, report.findings[0].fix],
    ["job-paused", "warning", "jobs unpause -j feed"],
  );
  assert.equal(result.code, 1);
});

Deno.test("jobs doctor --fix releases abandoned claims, reports it, and exits 0 when all is fixed", async () => {
  await using p = await project();
  const db = await p.open();
  const items = ["a", "b", "c"].map((key) => ({ key, data: {} }));
  await db.upsertItems({ jobId: "feed", stages: ["fetch", "parse"], items });
  await settle(db, {
    jobId: "feed",
    stage: "fetch",
    outcomes: { a: "done", b: "done", c: "done" },
  });
  const past = Date.now() - 600_000;
  await db.claimBatch({
    jobId: "feed",
    stage: "parse",
    runId: "crashed",
    limit: 2,
    leaseMs: 60_000,
    now: () => past,
  });
  const before = await doctor(p.dir);
  assert.equal(before.stdout.split("\n")[0], 'WARNING Job "feed" has 2 abandoned claims');
  assert.match(before.stdout, /\n {8}fix \(safe, applied by --fix\): jobs doctor --fix\n/);
  assert.equal(before.code, 1);

  const fixed = await doctor(p.dir, ["--fix"]);
  assert.equal(
    fixed.stdout,
    "FIXED   released 2 claims back to pending (2 with an expired lease, 0 of processes that " +
      "are gone)\nHealthy: no problems found\n",
  );
  assert.equal(fixed.code, 0);
  const statuses = (await db.listItems({ jobId: "feed" })).map((i) => i.stages[1].status);
  assert.deepEqual(statuses, ["pending", "pending", "pending"]);
  assert.equal((await doctor(p.dir)).code, 0);
});

Deno.test("jobs doctor reads --config and --db", async () => {
  await using p = await project();
  const other = `${p.dir}/other.sqlite`;
  const result = await doctor("/", ["--config", p.configPath, "--db", other]);
  assert.equal(result.stdout.split("\n")[0], `INFO    No database yet at "${other}"`);
  assert.equal(result.code, 0);
});

Deno.test("jobs doctor rejects an unknown flag with exit 2 and no stack trace", async () => {
  await using p = await project();
  const result = await doctor(p.dir, ["--frobnicate"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^jobs doctor: .*--frobnicate/);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
  assert.equal(result.stdout, "");
});
