import assert from "node:assert/strict";

import { fileURLToPath } from "node:url";
import { lineSplitter, withDeadline } from "../_deadline.ts";
import { finish, type Outcome, PERMISSIONS, waitFor, withConfig, Workspace } from "./_helpers.ts";

const WATCHER = fileURLToPath(new URL("./_lease_watcher.ts", import.meta.url));

const ITEMS = 300;

// Logs "<pid> <stage> <key>" per call; 2 ms of work so that the runs overlap.
const HANDLER = `export default async function handle(item, ctx) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url),
    \`\${Deno.pid} \${ctx.stage} \${item.key}\\n\`, { append: true });
  await new Promise((resolve) => setTimeout(resolve, 2));
  return { key: item.key };
}
`;

function yaml(): string {
  const keys = Array.from({ length: ITEMS }, (_, i) => `{ key: k${i} }`);
  return `jobs:
  shared:
    discovery:
      strategy: static
      every: 1h
      items: [${keys.join(", ")}]
    stages:
      - { name: first, handler: ./h.ts, concurrency: 2 }
      - { name: second, handler: ./h.ts, concurrency: 2 }
`;
}

/** Starts three `jobctl ARGS` processes at once and waits for all of them. */
async function threeTogether(ws: Workspace, args: string[]): Promise<Outcome[]> {
  const children = [0, 1, 2].map(() => ws.spawn(withConfig(ws, args)));
  return await Promise.all(children.map((child) => finish(child)));
}

/** Checks that every (stage, item) was called exactly once; returns the pids that did work. */
async function assertEachCalledOnce(ws: Workspace): Promise<Set<string>> {
  const lines = await ws.lines("calls.log");
  const calls = new Map<string, number>();
  for (const line of lines) {
    const id = line.slice(line.indexOf(" ") + 1);
    calls.set(id, (calls.get(id) ?? 0) + 1);
  }
  const twice = [...calls].filter(([, n]) => n > 1).map(([id]) => id);
  assert.deepEqual(twice, [], "no (stage, item) may run twice without a crash");
  assert.equal(calls.size, ITEMS * 2);
  return new Set(lines.map((line) => line.split(" ")[0]));
}

async function assertAllDone(ws: Workspace): Promise<number> {
  const db = await ws.openDb();
  try {
    assert.deepEqual(
      (await db.stageStats("shared")).map((s) => [s.stage, s.done, s.pending, s.inProgress]),
      [["first", ITEMS, 0, 0], ["second", ITEMS, 0, 0]],
    );
    return (await db.getEvents({ jobId: "shared", kind: "discovery" })).length;
  } finally {
    await db.close();
  }
}

Deno.test("three jobctl run started together on a fresh database discover once and run each stage once", async () => {
  await using ws = await Workspace.create({ "h.ts": HANDLER, "jobs.yaml": yaml() });
  const outs = await threeTogether(ws, ["run"]);
  for (const out of outs) assert.equal(out.code, 0, out.stderr);
  assert.equal(await assertAllDone(ws), 1, "one discovery event");
  await assertEachCalledOnce(ws);
  const discovered = outs.filter((o) => /discovered 300 \(300 new/.test(o.stderr));
  assert.equal(discovered.length, 1, outs.map((o) => o.stderr).join("\n"));
});

// HANDLER, but every call waits until the file "go" exists.
const GATED = HANDLER.replace(
  "await new Promise",
  `while (!(await Deno.stat(new URL("./go", import.meta.url)).catch(() => false))) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise`,
);

Deno.test("three jobctl run processes share one job's claims and never run a stage twice", async () => {
  await using ws = await Workspace.create({ "h.ts": GATED, "jobs.yaml": yaml() });
  await ws.write("go", "");
  const discovery = await threeTogether(ws, ["run", "--discover-only"]);
  for (const out of discovery) assert.equal(out.code, 0, out.stderr);
  await Deno.remove(ws.path("go"));
  // Held at the gate, the first process to start cannot do all the work before the others
  // have claimed some, however slowly the machine starts them.
  const children = [0, 1, 2].map(() => ws.spawn(withConfig(ws, ["run"])));
  // Their deadline outlasts the 60 s wait at the gate.
  const outcomes = children.map((child) => finish(child, { timeoutMs: 180_000 }));
  const pids = children.map((c) => String(c.pid));
  await waitFor("each of the 3 processes to hold a claim at the gate", async () => {
    const started = new Set((await ws.lines("calls.log")).map((line) => line.split(" ")[0]));
    return pids.every((pid) => started.has(pid));
  }, 60_000);
  await ws.write("go", "");
  const outs = await Promise.all(outcomes);
  for (const out of outs) assert.equal(out.code, 0, out.stderr);
  assert.equal(await assertAllDone(ws), 1, "one discovery event");
  const workers = await assertEachCalledOnce(ws);
  assert.deepEqual([...workers].sort(), pids.sort(), "each of the 3 processes claimed work");
});

const LEASE_MS = 500;

/** Handlers that log their start, then wait until the file "release" exists. */
const HELD_HANDLER = `export default async function handle(item) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), \`\${Deno.pid} \${item.key}\\n\`,
    { append: true });
  while (!(await Deno.stat(new URL("./release", import.meta.url)).catch(() => false))) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {};
}
`;

Deno.test("the heartbeat keeps every claim of a run unexpired, as another process sees it", async () => {
  await using ws = await Workspace.create({
    "long.ts": HELD_HANDLER,
    "jobs.yaml": `runner: { lease: ${LEASE_MS}ms }
jobs:
  long:
    discovery: { strategy: static, items: [{ key: a }, { key: b }] }
    stages:
      - { handler: ./long.ts, concurrency: 2 }
`,
  });
  const first = ws.spawn(withConfig(ws, ["run"]));
  // Its deadline outlasts the watch below (up to 60 s) and the second run.
  const firstDone = finish(first, { timeoutMs: 180_000 });
  await waitFor("both handlers to start", async () => (await ws.lines("calls.log")).length === 2);
  const watcher = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, WATCHER, ws.dbPath, "long"],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // A second run meanwhile must take nothing back.
  const second = ws.jobs(["run"]);
  let secondEnded = false;
  second.finally(() => secondEnded = true);
  // Looks of the other process, until it has watched both claims held for 8 leases and the
  // second run has ended.
  const looks: { held: number; expired: number }[] = [];
  let since: number | undefined;
  try {
    await withDeadline("the watcher to see both claims held for 8 leases", 60_000, async () => {
      const lines = watcher.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter());
      for await (const line of lines) {
        const look = JSON.parse(line);
        looks.push(look);
        assert.ok(look.held === 2 || since === undefined, `a claim ended early: ${line}`);
        if (look.held !== 2) continue;
        since ??= Date.now();
        if (Date.now() - since >= 8 * LEASE_MS && secondEnded) return watcher.kill("SIGKILL");
      }
      throw new Error("the watcher ended");
    });
  } finally {
    try {
      watcher.kill("SIGKILL");
    } catch { /* already gone */ }
    await watcher.status;
    await ws.write("release", "");
  }
  const secondOut = await second;
  assert.equal(secondOut.code, 0, secondOut.stderr);
  assert.equal((await firstDone).code, 0);
  const expired = looks.filter((look) => look.expired > 0);
  assert.deepEqual(expired, [], `${expired.length} of ${looks.length} looks saw an expired claim`);
  assert.equal((await ws.lines("calls.log")).length, 2, "each item ran once");
  const db = await ws.openDb();
  try {
    assert.deepEqual((await db.stageStats("long")).map((s) => [s.done, s.inProgress]), [[2, 0]]);
    assert.deepEqual(await db.getEvents({ jobId: "long", kind: "released" }), []);
  } finally {
    await db.close();
  }
});
