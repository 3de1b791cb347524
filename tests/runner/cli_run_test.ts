import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";

import { Workspace } from "./_helpers.ts";

// Logs "<job> <key>" and works for item.data.ms; fails for items with `fail`.
const HANDLER = `export default async function handle(item, ctx) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url),
    \`\${ctx.job} \${item.key}\\n\`, { append: true });
  ctx.log.info("working", { attempt: ctx.attempt });
  await new Promise((resolve) => setTimeout(resolve, item.data.ms ?? 0));
  if (item.data.fail) {
    const err = new Error("bad item");
    err.name = "PermanentError";
    throw err;
  }
  return { ok: true };
}
`;

function job(id: string, items: string[], extra = ""): string {
  return `  ${id}:
    discovery: { strategy: static, items: [${items.join(", ")}] }
${extra}    stages:
      - { name: s, handler: ./h.ts, concurrency: 1 }
`;
}

async function workspace(jobs: string): Promise<Workspace> {
  return await Workspace.create({ "h.ts": HANDLER, "jobs.yaml": `jobs:\n${jobs}` });
}

const STACK_LINE = /^\s+at /m;
const ESC = String.fromCharCode(27);

Deno.test("jobctl run --due runs only jobs whose schedule fired since their last run", async () => {
  await using ws = await workspace(
    job("sched", ["{ key: a }"], '    schedule: "*/5 * * * *"\n') +
      job("always", ["{ key: b }"]),
  );
  const first = await ws.jobs(["run", "--due"]);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual((await ws.lines("calls.log")).sort(), ["always b", "sched a"]);

  const db = await ws.openDb();
  try {
    const lastRun = (await db.getJobState("sched")).lastRunAt!;
    const notDue = await ws.jobs(["run", "--due", "-j", "sched"]);
    assert.equal(notDue.code, 0, notDue.stderr);
    assert.match(notDue.stderr, /No job is due/);
    assert.equal((await db.getJobState("sched")).lastRunAt, lastRun, "sched did not run");

    // Ten minutes ago: the 5-minute schedule has fired since.
    await db.markJobRun({ jobId: "sched", now: Date.now() - 10 * 60_000 });
    const due = await ws.jobs(["run", "--due"]);
    assert.equal(due.code, 0, due.stderr);
    assert.match(due.stderr, /sched: discovered 1 \(0 new, 0 updated\)/);
    assert.ok((await db.getJobState("sched")).lastRunAt! > lastRun, "sched ran again");
  } finally {
    await db.close();
  }
});

Deno.test("jobctl run --max-runtime stops claiming, lets the handler in flight finish and exits 0", async () => {
  // 20 handlers of 1 s each, one at a time, cannot all run in 3 s, however fast the machine;
  // 3 s leave a loaded machine time to start the run and reach the first.
  const items = Array.from({ length: 20 }, (_, i) => `{ key: k${i}, ms: 1000 }`);
  await using ws = await workspace(job("slow", items));
  const out = await ws.jobs(["run", "--max-runtime", "3s"]);
  assert.equal(out.code, EXIT.ok, out.stderr);
  assert.match(out.stderr, /--max-runtime of 3s reached: stopping/);
  const called = (await ws.lines("calls.log")).length;
  assert.ok(called >= 1 && called < 20, `${called} handlers ran`);
  const db = await ws.openDb();
  try {
    const [s] = await db.stageStats("slow");
    assert.deepEqual([s.done, s.pending, s.inProgress], [called, 20 - called, 0]);
  } finally {
    await db.close();
  }
});

Deno.test("jobctl run --discover-only records the items and calls no handler", async () => {
  await using ws = await workspace(job("j", ["{ key: a }", "{ key: b }"]));
  const out = await ws.jobs(["run", "--discover-only"]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stderr, /j: discovered 2 \(2 new, 0 updated\)/);
  assert.deepEqual(await ws.lines("calls.log"), []);
  const db = await ws.openDb();
  try {
    assert.deepEqual((await db.stageStats("j")).map((s) => [s.stage, s.pending, s.done]), [
      ["s", 2, 0],
    ]);
  } finally {
    await db.close();
  }
});

Deno.test("jobctl run exits 1 when a stage failed, naming the failure in the summary", async () => {
  await using ws = await workspace(job("j", ["{ key: good }", "{ key: bad, fail: true }"]));
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, EXIT.failed);
  assert.match(
    out.stderr,
    /j: discovered 2 \(2 new, 0 updated\); s: 1 done, 0 skipped, 0 to retry, 1 failed/,
  );
  assert.ok(
    out.stderr.includes("warn  PermanentError: bad item job=j stage=s item=bad attempt=1"),
    out.stderr,
  );
  assert.doesNotMatch(out.stderr, STACK_LINE);
});

Deno.test("jobctl run exits 2 on bad usage with one clear line and no stack trace", async () => {
  await using ws = await workspace(job("alpha", ["{ key: a }"]) + job("beta", ["{ key: b }"]));
  const cases: [string[], string][] = [
    [["--bogus"], `jobctl run: Unknown option '--bogus'`],
    [["-j", "nope"], `Unknown job "nope"; jobs in ${ws.path("jobs.yaml")}: alpha, beta`],
    [["--limit", "0"], `--limit expects a positive whole number, got "0"`],
    [["--max-runtime", "soon"], `--max-runtime: expected a duration like "30s", got "soon"`],
    [["--log-format", "xml"], `--log-format expects "text" or "json", got "xml"`],
    [["--watch", "--dry-run"], "--watch and --dry-run cannot be combined"],
  ];
  for (const [args, message] of cases) {
    const out = await ws.jobs(["run", ...args]);
    assert.equal(out.code, EXIT.usage, `${args.join(" ")}: ${out.stderr}`);
    assert.equal(out.stderr.trim(), message);
  }
  assert.deepEqual(await ws.lines("calls.log"), []);
});

Deno.test("jobctl run exits 3 when the database cannot be opened", async () => {
  await using ws = await workspace(job("j", ["{ key: a }"]));
  const out = await ws.jobs(["run", "--db", ws.path("missing/dir/jobs.sqlite")]);
  assert.equal(out.code, EXIT.error);
  assert.match(out.stderr, /^Cannot open database ".*missing\/dir\/jobs\.sqlite": /);
  assert.doesNotMatch(out.stderr, STACK_LINE);
});

Deno.test("jobctl run --limit claims at most N items per stage", async () => {
  const items = Array.from({ length: 6 }, (_, i) => `{ key: k${i} }`);
  await using ws = await workspace(job("j", items));
  const out = await ws.jobs(["run", "--limit", "2"]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal((await ws.lines("calls.log")).length, 2);
});

Deno.test("without a terminal, jobctl run writes plain log lines; --log-format json writes JSON lines", async () => {
  await using ws = await workspace(job("j", ["{ key: good }", "{ key: bad, fail: true }"]));
  const text = await ws.jobs(["run"]);
  const textLines = text.stderr.trimEnd().split("\n");
  assert.ok(textLines.length >= 2);
  for (const line of textLines) {
    assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info |warn |error) \S/);
  }
  assert.equal(text.stderr.includes(ESC), false, "no terminal escapes");

  await ws.write("jobs.yaml", `jobs:\n${job("k", ["{ key: good }", "{ key: bad, fail: true }"])}`);
  const json = await ws.jobs(["run", "--log-format", "json"]);
  assert.equal(json.code, EXIT.failed);
  const records = json.stderr.trimEnd().split("\n").map((line) => JSON.parse(line));
  assert.ok(records.length >= 2);
  for (const r of records) {
    assert.equal(typeof r.ts, "string");
    assert.ok(["info", "warn", "error"].includes(r.level), r.level);
    assert.equal(typeof r.message, "string");
  }
  assert.deepEqual(
    records.filter((r) => r.level === "warn").map((r) => [r.message, r.job, r.stage, r.item]),
    [["PermanentError: bad item", "k", "s", "bad"]],
  );
  assert.deepEqual(
    records.filter((r) => r.message === "working").map((r) => [r.job, r.stage, r.item, r.attempt])
      .sort(),
    [["k", "s", "bad", 1], ["k", "s", "good", 1]],
  );
  const summary = records.at(-1);
  assert.equal(summary.job, "k");
  assert.match(summary.message, /^k: discovered 2 \(2 new, 0 updated\); s: 1 done/);
});
