/**
 * A run killed with SIGKILL while it discovers does not keep the job's discovery from the next
 * run: its discovery lease is released at once (its process is gone), by the next run, by
 * `doctor --fix` and by `wake`. On PostgreSQL too when JOBS_TEST_PG_URL is set.
 */
import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";
import { tempDb } from "../db/_helpers.ts";
import { killingGroups } from "../_processes.ts";
import { exited, startJobs, statusMap, waitFor, Workspace } from "./_helpers.ts";

/**
 * The first discovery notes its pid (its process group) and hangs; later ones find item "a" at
 * once.
 */
const DISCOVERY = `[sh, -c, 'if [ ! -e started ]; then echo $$ > started; sleep 120; fi; ` +
  `echo "[{\\"key\\":\\"a\\"}]"']`;

function jobsYaml(db: string): string {
  return `db: "${db}"
jobs:
  found:
    discovery: { strategy: command, command: ${DISCOVERY} }
    stages:
      - { name: s1, command: [sh, -c, 'echo "{}"'] }
`;
}

/** Starts a run, waits until its discovery runs, and kills the run and the discovery. */
async function killDuringDiscovery(ws: Workspace): Promise<void> {
  const run = startJobs(ws, ["run"]);
  await waitFor(
    "the discovery command to start",
    async () => (await ws.lines("started")).length === 1,
  );
  run.child.kill("SIGKILL");
  Deno.kill(-Number((await ws.lines("started"))[0]), "SIGKILL");
  const status = await exited(run, "jobs run killed during discovery");
  assert.equal(status.signal, "SIGKILL");
}

async function killedWorkspace() {
  const t = await tempDb();
  const ws = await Workspace.create({ "jobs.yaml": jobsYaml(t.path) });
  const groups = killingGroups(async () => (await ws.lines("started")).map(Number));
  await killDuringDiscovery(ws);
  return {
    t,
    ws,
    async [Symbol.asyncDispose]() {
      await groups[Symbol.asyncDispose]();
      await ws[Symbol.asyncDispose]();
      await t[Symbol.asyncDispose]();
    },
  };
}

Deno.test("the run after one killed during discovery discovers at once", async () => {
  await using k = await killedWorkspace();
  const again = await k.ws.jobs(["run"]);
  assert.equal(again.code, EXIT.ok, again.stderr);
  assert.doesNotMatch(again.stderr, /another process is discovering/);
  assert.deepEqual(await statusMap(k.t.db, "found"), { a: "s1=done" });
  const released = await k.t.db.getEvents({ jobId: "found", kind: "released" });
  assert.equal(released.length, 1);
  assert.match(released[0].message, /^discovery lease released: process \d+ on .* is gone/);
});

Deno.test("doctor finds the discovery lease of a run killed while discovering; --fix releases it", async () => {
  await using k = await killedWorkspace();
  const doctor = await k.ws.jobs(["doctor", "--json"]);
  assert.equal(doctor.code, 1, doctor.stderr);
  const ids = JSON.parse(doctor.stdout).findings.map((f: { id: string }) => f.id);
  assert.deepEqual(ids, ["discovery-lease-abandoned"]);
  const fix = await k.ws.jobs(["doctor", "--fix", "--json"]);
  assert.equal(fix.code, 0, fix.stdout + fix.stderr);
  const report = JSON.parse(fix.stdout);
  assert.deepEqual(report.findings, []);
  assert.deepEqual(report.fixed.map((f: { id: string; job: string }) => [f.id, f.job]), [
    ["discovery-lease-abandoned", "found"],
  ]);
  assert.deepEqual(await k.t.db.deadDiscoveryLeases(), []);
});

Deno.test("wake releases the discovery lease of a run killed while discovering", async () => {
  await using k = await killedWorkspace();
  assert.equal((await k.t.db.deadDiscoveryLeases()).length, 1);
  const wake = await k.ws.jobs(["wake", "-j", "found"]);
  assert.equal(wake.code, 0, wake.stderr);
  assert.deepEqual(await k.t.db.deadDiscoveryLeases(), []);
  const released = await k.t.db.getEvents({ jobId: "found", kind: "released" });
  assert.equal(released.length, 1);
});
