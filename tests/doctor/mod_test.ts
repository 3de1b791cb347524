import { SCHEMA_VERSION } from "../../src/db/sqlite/schema.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { type DoctorOptions, exitCodeOf, type Finding, runDoctor } from "../../src/doctor/mod.ts";
import { FEED_YAML, project, settle } from "./_seed.ts";

import { openDb } from "../../src/db/mod.ts";

const NO_DISK_LIMIT = { bytes: 0, ratio: 0 };
const NOON = Date.UTC(2026, 2, 10, 12, 0);
const STAGES = ["fetch", "parse"];

/** runDoctor() on `configPath` with no disk limit. */
function doctor(configPath: string, options: Partial<DoctorOptions> = {}) {
  return runDoctor({ configPath, diskLimits: NO_DISK_LIMIT, ...options });
}

/** Findings as [id, severity, job] for a compact comparison. */
function ids(findings: Finding[]): [string, string, string | undefined][] {
  return findings.map((f) => [f.id, f.severity, f.job]);
}

Deno.test("runDoctor() finds nothing wrong with a store whose items are all done", async () => {
  await using p = await project();
  const db = await p.open();
  await db.upsertItems({ jobId: "feed", stages: STAGES, items: [{ key: "a", data: {} }] });
  await settle(db, { jobId: "feed", stage: "fetch", outcomes: { a: "done" } });
  await settle(db, { jobId: "feed", stage: "parse", outcomes: { a: "done" } });
  const report = await doctor(p.configPath);
  assertEquals(report, { findings: [], fixed: [] });
  assertEquals(exitCodeOf(report.findings), 0);
});

Deno.test("runDoctor() reports a missing database as a note with the command that creates it", async () => {
  await using p = await project();
  const { findings } = await doctor(p.configPath);
  assertEquals(findings, [{
    id: "db-missing",
    severity: "info",
    title: `No database yet at "${p.dbPath}"`,
    explanation: "The first run creates it; until then there is nothing else to check",
    fix: "jobctl run",
    safeFix: false,
  }]);
  assertEquals(exitCodeOf(findings), 0);
});

Deno.test("runDoctor() reports a paused job with its reason and the unpause command", async () => {
  await using p = await project();
  const db = await p.open();
  await db.pauseJob("feed", "5 failures in a row");
  const pausedAt = (await db.getJobState("feed")).pausedAt!;
  const { findings } = await doctor(p.configPath);
  assertEquals(findings, [{
    id: "job-paused",
    severity: "warning",
    job: "feed",
    title: 'Job "feed" is paused: 5 failures in a row',
    explanation: `It has been paused since ${
      new Date(pausedAt).toISOString().replace(/\.\d+Z$/, "Z")
    }; none of its stages is claimed until it is unpaused`,
    fix: "jobctl unpause -j feed",
    safeFix: false,
  }]);
  assertEquals(exitCodeOf(findings), 1);
});

Deno.test("runDoctor() reports failure clusters and the items stuck behind them with retry commands", async () => {
  await using p = await project();
  const db = await p.open();
  const items = ["a", "b", "c", "d"].map((key) => ({ key, data: {} }));
  await db.upsertItems({ jobId: "feed", stages: STAGES, items });
  await settle(db, {
    jobId: "feed",
    stage: "fetch",
    outcomes: {
      a: "Timeout after 30000 ms fetching https://a.example/1",
      b: "Timeout after 5000 ms fetching https://b.example/2",
      c: "done",
      d: "done",
    },
  });
  await settle(db, { jobId: "feed", stage: "parse", outcomes: { c: "Bad JSON: 'x'", d: "done" } });
  const { findings } = await doctor(p.configPath);
  assertEquals(findings, [
    {
      id: "failure-cluster",
      severity: "warning",
      job: "feed",
      title: 'Job "feed", stage "fetch": 2 items failed with "Timeout after <n> ms fetching <url>"',
      explanation: 'For example "a", "b". Retry them once the cause is gone (a server back, ' +
        "a handler fixed)",
      fix: 'jobctl retry -j feed --stage fetch --error "Timeout after"',
      safeFix: false,
    },
    {
      id: "failure-cluster",
      severity: "warning",
      job: "feed",
      title: `Job "feed", stage "parse": 1 item failed with "Bad JSON: '<value>'"`,
      explanation: 'For example "c". Retry them once the cause is gone (a server back, ' +
        "a handler fixed)",
      fix: 'jobctl retry -j feed --stage parse --error "Bad JSON:"',
      safeFix: false,
    },
    {
      id: "stuck-behind-failure",
      severity: "warning",
      job: "feed",
      title: 'Job "feed": 2 items wait behind failed stage "fetch"',
      explanation: 'Their later stages stay pending and are never claimed while "fetch" is failed',
      fix: "jobctl retry -j feed --stage fetch",
      safeFix: false,
    },
  ]);
});

Deno.test("runDoctor() reports stale results with the reprocess command", async () => {
  await using p = await project();
  const db = await p.open();
  const items = ["a", "b"].map((key) => ({ key, data: {} }));
  await db.upsertItems({ jobId: "feed", stages: STAGES, items });
  await settle(db, { jobId: "feed", stage: "fetch", outcomes: { a: "done", b: "done" } });
  await settle(db, { jobId: "feed", stage: "parse", outcomes: { a: "done", b: "done" } });
  // The last run recorded "1"; the module declares "2" since, and no run followed.
  await db.setHandlerVersion({ jobId: "feed", stage: "fetch", version: "1" });
  await db.setHandlerVersion({ jobId: "feed", stage: "parse", version: "1" });
  await Deno.writeTextFile(
    join(p.dir, "handlers/fetch.ts"),
    'export const HANDLER_VERSION = "2";\nexport default () => ({});\n',
  );
  const { findings } = await doctor(p.configPath);
  assertEquals(findings, [{
    id: "stale-results",
    severity: "info",
    job: "feed",
    title: 'Job "feed" has 2 stale results',
    explanation: 'Made by an older handler version: 2 of stage "fetch". Reprocessing runs ' +
      "those stages, and every later one, again",
    fix: "jobctl reprocess -j feed --stale",
    safeFix: false,
  }]);
});

const BUDGET_YAML = FEED_YAML.replace("    stages:", "    budget: { daily_usd: 2 }\n    stages:");

Deno.test("runDoctor() warns at a reached budget and notes one at 80% or more", async () => {
  await using p = await project(BUDGET_YAML);
  const db = await p.open();
  await db.logCost({ jobId: "feed", usd: 1.5, ts: NOON - 3_600_000 });
  assertEquals(await doctor(p.configPath, { now: () => NOON }), { findings: [], fixed: [] });
  await db.logCost({ jobId: "feed", usd: 0.1, ts: NOON - 60_000 });
  const near = await doctor(p.configPath, { now: () => NOON });
  assertEquals(near.findings, [{
    id: "budget-near",
    severity: "info",
    job: "feed",
    title: 'Job "feed" spent $1.60 of its $2.00 daily budget',
    explanation: "80% is used; claiming stops at 100% until 00:00 UTC",
    fix: 'raise budget.daily_usd of job "feed" in the config, or wait for 00:00 UTC',
    safeFix: false,
  }]);
  await db.logCost({ jobId: "feed", usd: 0.4, ts: NOON - 60_000 });
  const reached = await doctor(p.configPath, { now: () => NOON + 30 * 60_000 });
  assertEquals(ids(reached.findings), [["budget-reached", "warning", "feed"]]);
  assertEquals(
    reached.findings[0].explanation,
    "No stage is claimed until the budget resets at 00:00 UTC (in 11h 30m)",
  );
  // Yesterday's spending does not count today.
  const tomorrow = await doctor(p.configPath, { now: () => NOON + 86_400_000 });
  assertEquals(tomorrow.findings, []);
});

async function discovered(db: Awaited<ReturnType<typeof openDb>>, at: number): Promise<void> {
  await db.acquireDiscoveryLease({ jobId: "feed", owner: "o", leaseMs: 60_000, now: () => at });
  await db.finishDiscovery({ jobId: "feed", owner: "o", succeeded: true, now: () => at });
}

Deno.test("runDoctor() warns when discovery missed two chances of its `every`", async () => {
  const yaml = FEED_YAML.replace("items: [{ key: a }] }", "items: [{ key: a }], every: 1h }");
  await using p = await project(yaml);
  const db = await p.open();
  assertEquals(ids((await doctor(p.configPath)).findings), [["discovery-never", "info", "feed"]]);
  await discovered(db, NOON - 2 * 3_600_000 + 60_000);
  assertEquals((await doctor(p.configPath, { now: () => NOON })).findings, []);
  await discovered(db, NOON - 2.5 * 3_600_000);
  const { findings } = await doctor(p.configPath, { now: () => NOON });
  assertEquals(findings, [{
    id: "discovery-overdue",
    severity: "warning",
    job: "feed",
    title: 'Discovery of job "feed" is overdue by 1h 30m',
    explanation: "The last discovery was at 2026-03-10T09:30:00Z; by every 1h the next was due " +
      'at 2026-03-10T10:30:00Z. Is cron still running "jobctl run"?',
    fix: "jobctl run -j feed",
    safeFix: false,
  }]);
});

Deno.test("runDoctor() measures discovery against the cron `schedule`", async () => {
  const yaml = FEED_YAML.replace("    stages:", '    schedule: "*/15 * * * *"\n    stages:');
  await using p = await project(yaml);
  const db = await p.open();
  await discovered(db, NOON + 5 * 60_000);
  assertEquals((await doctor(p.configPath, { now: () => NOON + 29 * 60_000 })).findings, []);
  const { findings } = await doctor(p.configPath, { now: () => NOON + 40 * 60_000 });
  assertEquals(findings.map((f) => f.title), ['Discovery of job "feed" is overdue by 25m']);
});

Deno.test("runDoctor() reports abandoned claims as safely fixable", async () => {
  await using p = await project();
  const db = await p.open();
  const items = ["a", "b"].map((key) => ({ key, data: {} }));
  await db.upsertItems({ jobId: "feed", stages: STAGES, items });
  await db.claimBatch({
    jobId: "feed",
    stage: "fetch",
    runId: "crashed",
    limit: 2,
    leaseMs: 60_000,
    now: () => NOON,
  });
  const { findings } = await doctor(p.configPath, { now: () => NOON + 120_000 });
  assertEquals(findings, [{
    id: "leases-expired",
    severity: "warning",
    job: "feed",
    title: 'Job "feed" has 2 abandoned claims',
    explanation: "2 claims with an expired lease and 0 claims of processes on this host that " +
      "no longer run. Their stages stay in progress, and no run works on them, until they are " +
      "released",
    fix: "jobctl doctor --fix",
    safeFix: true,
  }]);
});

Deno.test("runDoctor() reports stage rows missing for a new stage, and stored stages removed", async () => {
  await using p = await project();
  const db = await p.open();
  const items = ["a", "b"].map((key) => ({ key, data: {} }));
  await db.upsertItems({ jobId: "feed", stages: ["fetch"], items });
  const missing = await doctor(p.configPath);
  assertEquals(missing.findings, [{
    id: "stage-rows-missing",
    severity: "warning",
    job: "feed",
    title: 'Job "feed" lacks 2 stage rows (new in the config: "parse")',
    explanation: "Every item needs a row for each stage of its job; an item without one is " +
      "never run through that stage",
    fix: "jobctl doctor --fix",
    safeFix: true,
  }]);
  await db.upsertItems({ jobId: "feed", stages: ["fetch", "old", "parse"], items });
  const removed = await doctor(p.configPath);
  assertEquals(removed.findings, [{
    id: "stages-removed",
    severity: "info",
    job: "feed",
    title: 'Job "feed" has stored stages the config no longer has: "old"',
    explanation: "The next run of the job drops their rows (their results are kept) and adds " +
      "rows for any new stage",
    fix: "jobctl run -j feed",
    safeFix: false,
  }]);
});

Deno.test("runDoctor() warns about a write-ahead log above the limit", async () => {
  await using p = await project();
  const db = await p.open();
  const items = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, data: {} }));
  await db.upsertItems({ jobId: "feed", stages: STAGES, items });
  const wal = await db.walSize();
  assertEquals((await doctor(p.configPath, { walWarnBytes: wal })).findings, []);
  const { findings } = await doctor(p.configPath, { walWarnBytes: 1000 });
  assertEquals(ids(findings), [["wal-size", "warning", undefined]]);
  assertEquals(findings[0].fix, "jobctl doctor --fix");
  assertEquals(findings[0].safeFix, true);
  assertEquals(findings[0].title.startsWith("The write-ahead log is "), true);
});

Deno.test("runDoctor() reports a damaged database as an error and skips the other checks", async () => {
  await using p = await project();
  const db = await p.open();
  const items = Array.from({ length: 3000 }, (_, i) => ({ key: `k${i}`, data: { i } }));
  await db.upsertItems({ jobId: "feed", stages: STAGES, items });
  await db.pauseJob("feed");
  await db.close();
  const bytes = await Deno.readFile(p.dbPath);
  const pageSize = (bytes[16] << 8) | bytes[17];
  for (let page = 2; page * pageSize < bytes.length; page += 3) {
    bytes.fill(0x5a, (page - 1) * pageSize + 8, (page - 1) * pageSize + 200);
  }
  await Deno.writeFile(p.dbPath, bytes);
  const { findings } = await doctor(p.configPath);
  assertEquals(ids(findings), [["db-integrity", "error", undefined]]);
  const recovered = join(p.dir, "jobs.recovered.sqlite");
  assertEquals(findings[0].fix, `sqlite3 ${p.dbPath} .recover | sqlite3 ${recovered}`);
  assertEquals(exitCodeOf(findings), 2);
});

Deno.test("runDoctor() refuses a newer schema and migrates an older one only with fix", async () => {
  await using p = await project();
  const raw = new DatabaseSync(p.dbPath);
  raw.exec("PRAGMA user_version = 99");
  raw.close();
  const newer = await doctor(p.configPath, { fix: true });
  assertEquals(ids(newer.findings), [["schema-version", "error", undefined]]);
  assertEquals(newer.fixed, []);
  assertEquals(newer.findings[0].fix, "install the jobctl version that wrote this database");

  await Deno.writeFile(p.dbPath, new Uint8Array());
  const older = await doctor(p.configPath);
  assertEquals(older.findings.map((f) => [f.id, f.severity, f.title, f.fix, f.safeFix]), [[
    "schema-version",
    "warning",
    `The database has schema version 0, this program writes ${SCHEMA_VERSION}`,
    "jobctl doctor --fix",
    true,
  ]]);
  const fixed = await doctor(p.configPath, { fix: true });
  assertEquals(fixed, {
    findings: [],
    fixed: [{
      id: "schema-version",
      action: `migrated the database from schema version 0 to ${SCHEMA_VERSION}`,
    }],
  });
});

Deno.test("runDoctor() turns a config that does not load into an error with the loader's messages", async () => {
  await using p = await project("jobs:\n  feed:\n    discovery: { strategy: nope }\n");
  const { findings } = await doctor(p.configPath);
  assertEquals(ids(findings), [["config-invalid", "error", undefined]]);
  assertEquals(findings[0].title, "The config does not load: 2 problems");
  const lines = findings[0].explanation.split("\n").map((line) => line.replace(/; known: .*/, ""));
  assertEquals(lines, [
    `${p.configPath}:2:3: jobs.feed: missing "stages" (a list) or "handler" (a single stage)`,
    `${p.configPath}:3:28: jobs.feed.discovery.strategy: unknown discovery strategy "nope"`,
    "No job runs until these are fixed; the checks of jobs and stages were skipped",
  ]);
  assertEquals(
    findings[0].fix,
    `edit the config at the positions above, then run: jobctl validate --config ${p.configPath}`,
  );
  // With --db the store is still checked, without the per-job checks.
  const db = await p.open();
  await db.pauseJob("feed");
  const withDb = await doctor(p.configPath, { dbPath: p.dbPath });
  assertEquals(ids(withDb.findings), [["config-invalid", "error", undefined]]);
});

Deno.test("runDoctor() reports missing handler files and programs", async () => {
  const yaml = `jobs:
  feed:
    discovery: { strategy: command, command: [./bin/list.sh] }
    stages:
      - name: fetch
        handler: ./handlers/missing.ts
      - name: parse
        command: [no-such-program-jobs-test]
      - name: store
        command: [./handlers/fetch.ts]
`;
  await using p = await project(yaml);
  const { findings } = await doctor(p.configPath);
  assertEquals(findings.map((f) => [f.id, f.severity, f.title, f.fix]), [
    [
      "handler-missing",
      "error",
      'Handler file of stage "fetch" is missing',
      `create "${p.dir}/handlers/missing.ts" or correct the handler of job "feed", stage "fetch" in the config`,
    ],
    [
      "command-not-found",
      "error",
      'Program "no-such-program-jobs-test" is not on PATH',
      'install "no-such-program-jobs-test" or correct the command of job "feed", stage "parse" in the config',
    ],
    [
      "command-not-found",
      "error",
      `Program "${p.dir}/handlers/fetch.ts" is not executable`,
      `chmod +x ${p.dir}/handlers/fetch.ts`,
    ],
    [
      "command-not-found",
      "error",
      `Program "${p.dir}/bin/list.sh" does not exist`,
      'correct the command of job "feed", discovery in the config',
    ],
    ["db-missing", "info", `No database yet at "${p.dir}/jobs.sqlite"`, "jobctl run"],
  ]);
  await Deno.chmod(join(p.dir, "handlers/fetch.ts"), 0o755);
  const after = await doctor(p.configPath);
  assertEquals(after.findings.filter((f) => f.title.includes("fetch.ts")), []);
});

Deno.test("runDoctor() reports a PostgreSQL server it cannot reach as an error, without the password", async () => {
  await using p = await project(
    FEED_YAML.replace("db: jobs.sqlite", "db: postgres://jobs:s3cret@127.0.0.1:1/jobs"),
  );
  const { findings } = await doctor(p.configPath);
  assertEquals(findings.map((f) => [f.id, f.severity, f.title]), [[
    "db-open",
    "error",
    "The database cannot be opened",
  ]]);
  const [finding] = findings;
  assertEquals(
    finding.explanation.startsWith(
      'Cannot connect to database "postgres://jobs:***@127.0.0.1:1/jobs": ',
    ),
    true,
  );
  assertEquals(JSON.stringify(finding).includes("s3cret"), false);
  assertEquals(
    finding.fix,
    "check that the server is up and reachable from here, and the URL's user and password (or $PGPASSWORD)",
  );
});

Deno.test("runDoctor() warns when the database's filesystem has less free space than the limit", async () => {
  await using p = await project();
  await p.open();
  const { findings } = await doctor(p.configPath, { diskLimits: { bytes: 2 ** 60, ratio: 0 } });
  assertEquals(ids(findings), [["disk-space", "warning", undefined]]);
  assertEquals(findings[0].fix.startsWith("free space on /"), true, findings[0].fix);
  const fine = await doctor(p.configPath, { diskLimits: { bytes: 1, ratio: 0.0001 } });
  assertEquals(fine.findings, []);
});

Deno.test("runDoctor() with fix applies exactly the safe fixes and reports what is left", async () => {
  await using p = await project();
  const db = await p.open();
  const items = ["a", "b", "c", "d"].map((key) => ({ key, data: {} }));
  await db.upsertItems({ jobId: "feed", stages: ["fetch"], items: items.slice(0, 2) });
  await settle(db, { jobId: "feed", stage: "fetch", outcomes: { a: "HTTP 500", b: "done" } });
  await db.upsertItems({ jobId: "feed", stages: ["fetch"], items });
  await db.claimBatch({
    jobId: "feed",
    stage: "fetch",
    runId: "crashed",
    limit: 1,
    leaseMs: 1000,
    now: () => NOON - 60_000,
  });
  await db.pauseJob("feed", "by hand");
  const before = await doctor(p.configPath, { now: () => NOON, walWarnBytes: 1000 });
  assertEquals(ids(before.findings), [
    ["wal-size", "warning", undefined],
    ["leases-expired", "warning", "feed"],
    ["stage-rows-missing", "warning", "feed"],
    ["job-paused", "warning", "feed"],
    ["failure-cluster", "warning", "feed"],
  ]);
  const report = await doctor(p.configPath, { now: () => NOON, walWarnBytes: 1000, fix: true });
  assertEquals(report.fixed.map((f) => [f.id, f.job, f.action.replace(/\(.* → /, "(… → ")]), [
    [
      "leases-expired",
      undefined,
      "released 1 claim back to pending (1 with an expired lease, 0 of processes that are gone)",
    ],
    ["stage-rows-missing", "feed", "added 4 stage rows"],
    ["wal-size", undefined, "checkpointed the write-ahead log (… → 0 B)"],
  ]);
  // Item "a" failed at fetch, so its new parse row waits behind that failure.
  assertEquals(ids(report.findings), [
    ["job-paused", "warning", "feed"],
    ["failure-cluster", "warning", "feed"],
    ["stuck-behind-failure", "warning", "feed"],
  ]);
  const stages = (await db.listItems({ jobId: "feed" })).map((i) => [
    i.key,
    ...i.stages.map((s) => s.status),
  ]);
  assertEquals(stages, [
    ["a", "failed", "pending"],
    ["b", "done", "pending"],
    ["c", "pending", "pending"],
    ["d", "pending", "pending"],
  ]);
  assertEquals((await db.getJobState("feed")).paused, true);
  assertEquals(await db.walSize(), 0);
});

Deno.test("exitCodeOf() is 2 for errors, 1 for warnings, 0 for notes only", () => {
  const finding = (severity: Finding["severity"]): Finding => ({
    id: "x",
    severity,
    title: "",
    explanation: "",
    fix: "",
    safeFix: false,
  });
  assertEquals(exitCodeOf([]), 0);
  assertEquals(exitCodeOf([finding("info")]), 0);
  assertEquals(exitCodeOf([finding("info"), finding("warning")]), 1);
  assertEquals(exitCodeOf([finding("warning"), finding("error")]), 2);
});
