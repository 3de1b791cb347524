/**
 * `jobctl test` holds handlers as `jobctl run` does: a module handler cannot end it, an error
 * escaping a handler fails that stage, and no command's process group outlives it.
 */
import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";
import { groupsGone, killingGroups } from "../_processes.ts";
import { exited, startJobs, waitFor, Workspace } from "./_helpers.ts";

// k1 ends the process, k2 succeeds, k3 throws from a timer while it runs.
const HANDLER = `export default async function handle(item) {
  if (item.key === "k1") Deno.exit(0);
  if (item.key === "k3") setTimeout(() => { throw new Error("late boom"); }, 0);
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { ok: item.key };
}
`;

/** "stage key: outcome" of each stage report `jobctl test` printed. */
function reports(stdout: string): string[] {
  return [...stdout.matchAll(/^── j \/ (\w+) \/ (\S+): (\w+) in \d+ms$/gm)]
    .map((m) => `${m[1]} ${m[2]}: ${m[3]}`).sort();
}

Deno.test("jobctl test: a handler's Deno.exit() or stray error fails its stage, not the command", async () => {
  await using ws = await Workspace.create({
    "h.ts": HANDLER,
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [{ key: k1 }, { key: k2 }, { key: k3 }] }
    stages:
      - { name: a, handler: ./h.ts, retries: 0, concurrency: 1 }
`,
  });
  const out = await ws.jobs(["test", "-j", "j"]);
  assert.equal(out.code, EXIT.failed, out.stdout + out.stderr);
  assert.deepEqual(reports(out.stdout), ["a k1: failed", "a k2: done", "a k3: failed"]);
  assert.match(
    out.stdout,
    /output: "HandlerExitError: Deno\.exit\(0\) was called by a handler; a handler must return or throw"\n/,
  );
  assert.match(out.stdout, /output: "UncaughtError: Error: late boom"\n/);
  assert.match(out.stdout, /\n3 stage runs on 3 items in /);
});

Deno.test("jobctl test: a second SIGTERM kills every command's process group before it exits", async () => {
  await using ws = await Workspace.create({
    "jobs.yaml": `runner: { shutdown_grace: 30s }
jobs:
  j:
    discovery: { strategy: static, items: [{ key: c0 }, { key: c1 }] }
    stages:
      - { name: hold, command: [sh, -c, 'echo $$ >> groups.log; sleep 120 & wait'], concurrency: 2 }
`,
  });
  const groups = async () => (await ws.lines("groups.log")).map(Number);
  await using _groups = killingGroups(groups);
  const run = startJobs(ws, ["test", "-j", "j"]);
  await waitFor("both commands to start", async () => (await groups()).length === 2);
  run.child.kill("SIGTERM");
  await waitFor("the first signal to be noticed", () => run.stderr().includes("Stopping:"));
  run.child.kill("SIGTERM");
  const status = await exited(run, "jobctl test after a second SIGTERM");
  assert.equal(status.code, EXIT.interrupted, run.stderr());
  await groupsGone(await groups());
});

for (const command of ["run", "test"]) {
  Deno.test(`jobctl ${command}: SIGTERM during discovery kills the discovery command's group`, async () => {
    await using ws = await Workspace.create({
      "jobs.yaml": `runner: { shutdown_grace: 30s }
jobs:
  j:
    discovery:
      strategy: command
      command: [sh, -c, 'echo $$ >> groups.log; sleep 120 & sleep 120 & wait']
    handler: { command: [cat] }
`,
    });
    const groups = async () => (await ws.lines("groups.log")).map(Number);
    await using _groups = killingGroups(groups);
    const run = startJobs(ws, command === "run" ? ["run"] : ["test", "-j", "j"]);
    await waitFor("the discovery command to start", async () => (await groups()).length === 1);
    run.child.kill("SIGTERM");
    const status = await exited(run, `jobctl ${command} after SIGTERM during discovery`);
    assert.equal(status.code, EXIT.interrupted, run.stderr());
    await groupsGone(await groups());
  });
}
