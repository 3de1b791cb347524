import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";
import { Workspace } from "../runner/_helpers.ts";
import { TEST_PG_URL } from "../db/_helpers.ts";

const JOB = (id: string) =>
  `  ${id}:
    discovery: { strategy: static, items: [{ key: x }] }
    handler: builtin:fetch
`;

const OLD = Date.now() - 100 * 86_400_000;

Deno.test("jobctl prune -j and --dry-run say what they remove, and remove only that", async () => {
  await using ws = await Workspace.create({
    "jobs.yaml": `retention: { events: 30d }\njobs:\n${JOB("a")}${JOB("b")}`,
  });
  const none = await ws.jobs(["prune"]);
  assert.equal(none.code, EXIT.ok, none.stderr);
  // A SQLite file that is not there is left uncreated; a PostgreSQL schema always exists.
  if (TEST_PG_URL) assert.match(none.stdout, /^events {6}removed 0 \(0 B\)$/m);
  else assert.equal(none.stdout, "Nothing to prune: the database does not exist yet\n");
  const db = await ws.openDb();
  try {
    for (const jobId of ["a", "a", "b"]) {
      await db.logEvent({ jobId, kind: "note", message: "old news", ts: OLD });
    }
    await db.logCost({ jobId: "a", usd: 2, ts: OLD });
    await db.logEvent({ jobId: "a", kind: "note", message: "fresh" });

    const dry = await ws.jobs(["prune", "-j", "a", "--dry-run"]);
    assert.equal(dry.code, EXIT.ok, dry.stderr);
    assert.match(
      dry.stdout,
      /^events {6}would remove 3 \(\d+ B\), 1 of them costs kept as daily totals$/m,
    );
    assert.equal((await db.getEvents({ limit: 100 })).length, 5);

    const some = await ws.jobs(["prune", "-j", "a"]);
    assert.match(some.stdout, /^events {6}removed 3 /m);
    assert.deepEqual((await db.getEvents({ limit: 100 })).map((e) => [e.jobId, e.message]).sort(), [
      ["a", "fresh"],
      ["b", "old news"],
    ]);
    const rest = await ws.jobs(["prune", "--json"]);
    assert.equal(JSON.parse(rest.stdout).events.rows, 1);
    assert.equal((await db.getCostsByDay({ jobId: "a", days: 120 }))[0].usd, 2);

    const unknown = await ws.jobs(["prune", "-j", "nope"]);
    assert.equal(unknown.code, EXIT.usage);
    assert.match(unknown.stderr, /nope/);
  } finally {
    await db.close();
  }
});

Deno.test("the end of jobctl run prunes and says what it removed", async () => {
  await using ws = await Workspace.create({
    "jobs.yaml":
      `retention: { events: 30d }\njobs:\n  a:\n    discovery: { strategy: static, items: [{ key: x }] }\n    handler: ./h.ts\n`,
    "h.ts": "export default () => ({ ok: true });\n",
  });
  const first = await ws.jobs(["run"]);
  assert.equal(first.code, EXIT.ok, first.stderr);
  assert.doesNotMatch(first.stderr, /Pruned/, "nothing old yet");
  const db = await ws.openDb();
  try {
    for (let i = 0; i < 3; i++) {
      await db.logEvent({ jobId: "a", kind: "note", message: "old", ts: OLD });
    }
  } finally {
    await db.close();
  }
  const second = await ws.jobs(["run"]);
  assert.equal(second.code, EXIT.ok, second.stderr);
  assert.match(second.stderr, /Pruned 3 events$/m);
});
