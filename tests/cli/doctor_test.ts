import type { Store } from "../../src/db/store.ts";
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

/** Runs `jobctl doctor ARGS` as a child process in `cwd`. */
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

Deno.test("jobctl doctor exits 0 and says so when everything is healthy", async () => {
  await using p = await project();
  const db = await p.open();
  await db.upsertItems({ jobId: "feed", stages: ["fetch", "parse"], items: [] });
  const result = await doctor(p.dir);
  assert.equal(result.stderr, "");
  assert.equal(result.stdout, "Healthy: no problems found\n");
  assert.equal(result.code, 0);
});

Deno.test("jobctl doctor prints each warning with its fix and exits 1", async () => {
  await using p = await project();
  const db = await p.open();
  await db.pauseJob("feed", "too many failures");
  const result = await doctor(p.dir);
  const lines = result.stdout.split("\n");
  assert.equal(lines[0], 'WARNING Job "feed" is paused: too many failures');
  assert.match(lines[1], /^ {8}It has been paused since \d{4}-\d\d-\d\dT[\d:]+Z; none of its/);
  assert.deepEqual(lines.slice(2), [
    "        fix: jobctl unpause -j feed",
    "0 errors, 1 warning, 0 notes",
    "",
  ]);
  assert.equal(result.code, 1);
});

Deno.test("jobctl doctor exits 2 on an error finding", async () => {
  await using p = await project();
  await Deno.remove(`${p.dir}/handlers/fetch.ts`);
  await p.open();
  const result = await doctor(p.dir);
  assert.equal(result.code, 2);
  assert.equal(result.stdout.split("\n")[0], `ERROR   Handler file of stage "fetch" is missing`);
  assert.equal(result.stderr, "");
});

Deno.test("jobctl doctor --json prints { findings, fixed } with the same exit code", async () => {
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
    ["job-paused", "warning", "jobctl unpause -j feed"],
  );
  assert.equal(result.code, 1);
});

Deno.test("jobctl doctor --fix releases abandoned claims, reports it, and exits 0 when all is fixed", async () => {
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
  assert.match(before.stdout, /\n {8}fix \(safe, applied by --fix\): jobctl doctor --fix\n/);
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

Deno.test("jobctl doctor reads --config and --db", async () => {
  await using p = await project();
  const other = `${p.dir}/other.sqlite`;
  const result = await doctor("/", ["--config", p.configPath, "--db", other]);
  assert.equal(result.stdout.split("\n")[0], `INFO    No database yet at "${other}"`);
  assert.equal(result.code, 0);
});

Deno.test("jobctl doctor rejects an unknown flag with exit 2 and no stack trace", async () => {
  await using p = await project();
  const result = await doctor(p.dir, ["--frobnicate"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^jobctl doctor: .*--frobnicate/);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
  assert.equal(result.stdout, "");
});

Deno.test("each failure cluster's suggested retry retries exactly the items of that cluster", async () => {
  await using p = await project();
  const db = await p.open();
  const items = ["t1", "t2", "a1", "a2", "s1"].map((key) => ({ key, data: {} }));
  await db.upsertItems({ jobId: "feed", stages: ["fetch", "parse"], items });
  const traceback = (line: number) =>
    `Traceback (most recent call last):\n  File "h.py", line ${line}, in main\n` +
    `    body = fetch(url)\nConnectionError: refused`;
  await settle(db, {
    jobId: "feed",
    stage: "fetch",
    outcomes: {
      t1: traceback(12),
      t2: traceback(14),
      a1: "Timeout after 40 ms fetching https://a.example/",
      a2: "Timeout after 41 ms fetching https://b.example/",
      s1: "Timeout after 30 s",
    },
  });
  const { findings } = JSON.parse((await doctor(p.dir, ["--json"])).stdout);
  const fixes = (findings as { id: string; fix: string }[])
    .filter((f) => f.id === "failure-cluster").map((f) => f.fix);
  assert.equal(fixes.length, 3);
  // `jobctl` on PATH is the program under test, so each fix runs exactly as printed.
  const bin = `${p.dir}/bin`;
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    `${bin}/jobctl`,
    `#!/bin/sh\nexec "${Deno.execPath()}" run --config "${DENO_JSON}" ${
      PERMISSIONS.join(" ")
    } "${MAIN}" "$@"\n`,
  );
  await Deno.chmod(`${bin}/jobctl`, 0o755);
  const retried: string[][] = [];
  for (const fix of fixes) {
    const before = await failedKeys(db);
    const run = await new Deno.Command("sh", {
      args: ["-c", fix],
      cwd: p.dir,
      env: { PATH: `${bin}:${Deno.env.get("PATH")}`, NO_COLOR: "1" },
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    const after = await failedKeys(db);
    retried.push(before.filter((k) => !after.includes(k)));
    await settle(db, {
      jobId: "feed",
      stage: "fetch",
      outcomes: Object.fromEntries(retried.at(-1)!.map((k) => [k, "Failed again"])),
    });
  }
  // The clusters, largest first: the timeouts with "ms fetching", the tracebacks, then the
  // one whose text stands in the other timeouts too and so retries the stage's failures.
  assert.deepEqual(retried.slice(0, 2), [["a1", "a2"], ["t1", "t2"]]);
  assert.match(fixes[2], /^jobctl retry -j feed --stage fetch$/);
});

/** Keys of the items whose fetch stage is failed. */
async function failedKeys(db: Store): Promise<string[]> {
  const items = await db.listItems({ jobId: "feed", status: "failed" });
  return items.map((i) => i.key).sort();
}
