/**
 * Nothing a command starts outlives the run: every way `jobs run` ends (second signal, fatal
 * error, normal end, --max-runtime) and a discovery command's timeout kill whole process groups.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { EXIT } from "../../src/cli/mod.ts";

import { groupsGone, killingGroups } from "../_processes.ts";
import { SQLITE_ONLY } from "../db/_helpers.ts";
import { exited, startJobs, statusMap, waitFor, Workspace } from "./_helpers.ts";

/** A shell that notes its pid (its process group: commands lead their own) and runs `rest`. */
function noting(rest: string): string {
  return `[sh, -c, 'echo $$ >> groups.log; ${rest}']`;
}

/** Pids of the command shells, which are their process group ids. */
async function groups(ws: Workspace): Promise<number[]> {
  return (await ws.lines("groups.log")).map(Number);
}

function commandJob(command: string, items: number, extra = ""): string {
  const keys = Array.from({ length: items }, (_, i) => `{ key: c${i} }`).join(", ");
  return `  cmd:
    discovery: { strategy: static, items: [${keys}] }
    stages:
      - { name: hold, command: ${command}, concurrency: ${items}${extra} }
`;
}

Deno.test("a second SIGTERM kills every command's process group before the runner exits", async () => {
  await using ws = await Workspace.create({
    "jobs.yaml": `runner: { shutdown_grace: 30s }\njobs:\n${
      commandJob(noting("sleep 120 & wait"), 2)
    }`,
  });
  await using _groups = killingGroups(() => groups(ws));
  const run = startJobs(ws, ["run"]);
  await waitFor("both commands to start", async () => (await groups(ws)).length === 2);
  run.child.kill("SIGTERM");
  await waitFor("the first signal to be noticed", () => run.stderr().includes("Stopping:"));
  run.child.kill("SIGTERM");
  const status = await exited(run, "jobs run after a second SIGTERM");
  assert.equal(status.code, EXIT.interrupted, run.stderr());
  assert.match(run.stderr(), /Second signal: exiting now/);
  await groupsGone(await groups(ws));
});

// Each call takes 20 ms and logs its key, so the test knows the run is busy writing outcomes.
const QUICK = `export default async function handle(item) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), item.key + "\\n", { append: true });
  return {};
}
`;

// The fatal error is made by dropping a table of the SQLite file under the running program.
Deno.test(
  "a fatal store error kills every command's process group before the runner exits",
  SQLITE_ONLY,
  async () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `{ key: q${i} }`).join(", ");
    await using ws = await Workspace.create({
      "quick.ts": QUICK,
      "jobs.yaml": `jobs:\n${commandJob(noting("sleep 120 & wait"), 1)}  quick:
    discovery: { strategy: static, items: [${keys}] }
    stages:
      - { name: q, handler: ./quick.ts, concurrency: 1 }
`,
    });
    await using _groups = killingGroups(() => groups(ws));
    const run = startJobs(ws, ["run"]);
    await waitFor("the command to start", async () => (await groups(ws)).length === 1);
    await waitFor("quick outcomes", async () => (await ws.lines("calls.log")).length >= 3);
    // Recording the next outcome of "quick" fails: the one error that stops a run.
    const conn = new DatabaseSync(ws.dbPath, { timeout: 10_000 });
    conn.exec("DROP TABLE results");
    conn.close();
    const status = await exited(run, "jobs run after a fatal store error");
    assert.equal(status.code, EXIT.error, run.stderr());
    assert.match(run.stderr(), /no such table: results/);
    await groupsGone(await groups(ws));
  },
);

Deno.test("what a command leaves running in its group is killed when the command ends", async () => {
  await using ws = await Workspace.create({
    "jobs.yaml": `jobs:\n${commandJob(noting("sleep 120 > /dev/null 2>&1 &"), 2)}`,
  });
  await using _groups = killingGroups(() => groups(ws));
  const run = startJobs(ws, ["run"]);
  const status = await exited(run, "jobs run of commands that exit at once");
  assert.equal(status.code, EXIT.ok, run.stderr());
  const db = await ws.openDb();
  try {
    assert.deepEqual(await statusMap(db, "cmd"), { c0: "hold=done", c1: "hold=done" });
  } finally {
    await db.close();
  }
  const pgids = await groups(ws);
  assert.equal(pgids.length, 2);
  await groupsGone(pgids);
});

Deno.test("--max-runtime: commands that ignore SIGTERM are killed with their groups", async () => {
  await using ws = await Workspace.create({
    "jobs.yaml": `runner: { shutdown_grace: 1s }\njobs:\n${
      commandJob(noting('trap "" TERM; sleep 120 & wait'), 2)
    }`,
  });
  await using _groups = killingGroups(() => groups(ws));
  const run = startJobs(ws, ["run", "--max-runtime", "1s"]);
  await waitFor("both commands to start", async () => (await groups(ws)).length === 2);
  const status = await exited(run, "jobs run --max-runtime 1s");
  assert.equal(status.code, EXIT.ok, run.stderr());
  await groupsGone(await groups(ws));
  const db = await ws.openDb();
  try {
    assert.deepEqual(await statusMap(db, "cmd"), { c0: "hold=pending", c1: "hold=pending" });
  } finally {
    await db.close();
  }
});

Deno.test("a discovery command past its timeout is killed with its group, though a grandchild holds stdout", async () => {
  await using ws = await Workspace.create({
    "jobs.yaml": `jobs:
  found:
    discovery:
      strategy: command
      command: ${noting("sleep 120 & sleep 120")}
      timeout: 1s
    handler: builtin:fetch
`,
  });
  await using _groups = killingGroups(() => groups(ws));
  const run = startJobs(ws, ["run"]);
  const status = await exited(run, "jobs run with a discovery command that times out");
  assert.equal(status.code, EXIT.failed, run.stderr());
  assert.match(run.stderr(), /found: discovery failed: Command "sh" timed out after 1s/);
  await groupsGone(await groups(ws));
  const db = await ws.openDb();
  try {
    const events = await db.getEvents({ jobId: "found", kind: "discovery_error" });
    assert.deepEqual(events.map((e) => e.message), ['Command "sh" timed out after 1s']);
  } finally {
    await db.close();
  }
});
