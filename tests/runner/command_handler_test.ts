import assert from "node:assert/strict";

import { groupsGone } from "../_processes.ts";
import { allItems, resultsOf, Workspace } from "./_helpers.ts";

// Behaves by the item key found in the JSON on stdin; item data never reaches a shell.
const BY_KEY = `#!/bin/sh
input=$(cat)
case "$input" in
  *'"key":"ok"'*) echo '{"ok":true}' ;;
  *'"key":"skip"'*) echo '{"reason":"not today"}'; exit 10 ;;
  *'"key":"perm"'*) echo 'bad record' >&2; exit 11 ;;
  *'"key":"later"'*) echo 'busy' >&2; exit 75 ;;
  *'"key":"crash"'*) echo 'it broke' >&2; exit 3 ;;
  *'"key":"garbage"'*) echo 'hello, not json' ;;
  *'"key":"noisy"'*) head -c 3000 /dev/zero | tr '\\0' x >&2; echo END >&2; exit 3 ;;
  *'"key":"empty"'*) ;;
  *) echo "{\\"len\\":\${#input}}" ;;
esac
`;

Deno.test("command exit codes: 0 done, 10 skip, 11 permanent, 75 retry later, others retry", async () => {
  await using ws = await Workspace.create({
    "by_key.sh": BY_KEY,
    "jobs.yaml": `jobs:
  j:
    discovery:
      strategy: static
      items:
        - { key: ok }
        - { key: skip }
        - { key: perm }
        - { key: later }
        - { key: crash }
        - { key: garbage }
        - { key: noisy }
        - { key: empty }
        - { key: "$(touch injected); \`touch injected\`" }
    stages:
      - name: cmd
        command: [./by_key.sh]
        retries: 2
        backoff: 1m
`,
  });
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, 1, "a stage failed: exit 1");
  const program = `Command "${ws.path("by_key.sh")}"`;
  const db = await ws.openDb();
  try {
    const items = await allItems(db, "j");
    const stage = Object.fromEntries(items.map((i) => [i.key, i.stages[0]]));
    const row = (status: string, attempts: number, error: string | null) => ({
      stage: "cmd",
      status,
      attempts,
      error,
    });
    assert.deepEqual(stage.ok, row("done", 1, null));
    assert.deepEqual(stage.skip, row("skipped", 1, "not today"));
    assert.deepEqual(
      stage.perm,
      row(
        "failed",
        1,
        `PermanentError: ${program} failed permanently (exit 11); stderr: bad record`,
      ),
    );
    assert.deepEqual(
      stage.later,
      row("pending", 1, `${program} asked to retry later (exit 75); stderr: busy`),
    );
    assert.deepEqual(
      stage.crash,
      row("pending", 1, `Error: ${program} exited with code 3; stderr: it broke`),
    );
    assert.equal(stage.garbage.status, "failed");
    assert.match(
      stage.garbage.error!,
      /^PermanentError: Command ".*by_key\.sh" printed invalid JSON on stdout \(.+\): "hello, not json\\n"$/s,
    );
    // Only the tail of a long stderr is kept.
    assert.equal(stage.noisy.status, "pending");
    assert.ok(stage.noisy.error!.endsWith("x".repeat(1990) + "END"), stage.noisy.error!);
    assert.ok(stage.noisy.error!.includes("; stderr: …x"));
    assert.ok(stage.noisy.error!.length < 2200, `kept ${stage.noisy.error!.length} chars`);
    assert.deepEqual(stage.empty, row("done", 1, null));

    const resultOf = async (key: string) => (await resultsOf(db, "j", key)).map((r) => r.result);
    assert.deepEqual(await resultOf("ok"), [{ ok: true }]);
    assert.deepEqual(await resultOf("empty"), [null]);
    const injected = items.find((i) => i.key.startsWith("$("))!;
    assert.equal(injected.stages[0].status, "done");
  } finally {
    await db.close();
  }
  assert.equal(await Deno.stat(ws.path("injected")).then(() => true, () => false), false);
});

// Ignores SIGTERM (noting it a second later) and starts a child that does the same.
const STUBBORN = `#!/bin/sh
trap 'sleep 1; echo parent-term >> signals.log' TERM
sh -c 'trap "echo child-term >> signals.log" TERM; echo $$ > child.pid; while :; do sleep 0.05; done' &
echo $$ > leader.pid
while :; do sleep 0.05; done
`;

// Writes on stderr and stdout half a second into its grace, then notes that it got that far.
const TALKS_IN_GRACE = `#!/bin/sh
trap 'sleep 0.5; echo "closing down" >&2; echo bye; echo wrote > after-term; exit 0' TERM
echo $$ > leader.pid
while :; do sleep 0.05; done
`;

/** A workspace whose one stage runs `script` (which writes its pid to leader.pid) with a 3 s timeout. */
function timeoutFiles(script: string): Record<string, string> {
  return {
    "cmd.sh": script,
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [{ key: k1 }] }
    stages:
      - command: [./cmd.sh]
        timeout: 3s
        retries: 0
`,
  };
}

/** Runs the workspace to the end: exit 1, the command's group gone, its stage failed on time. */
async function expectTimedOut(ws: Workspace): Promise<void> {
  // 3 s leave the shells time to set their traps on a loaded machine before the SIGTERM. The
  // run ends long before the group's grace: it must still give the group that grace.
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, 1, out.stderr);
  // The command leads its own process group.
  await groupsGone([Number(await Deno.readTextFile(ws.path("leader.pid")))]);
  const db = await ws.openDb();
  try {
    assert.deepEqual((await allItems(db, "j"))[0].stages, [
      { stage: "cmd.sh", status: "failed", attempts: 1, error: "Timed out after 3s" },
    ]);
  } finally {
    await db.close();
  }
}

Deno.test("a command past its timeout gets SIGTERM, then its whole process group SIGKILL", async () => {
  await using ws = await Workspace.create(timeoutFiles(STUBBORN));
  await expectTimedOut(ws);
  assert.deepEqual((await ws.lines("signals.log")).sort(), ["child-term", "parent-term"]);
});

Deno.test("a command past its timeout can still write on stdout and stderr in its grace", async () => {
  await using ws = await Workspace.create(timeoutFiles(TALKS_IN_GRACE));
  await expectTimedOut(ws);
  // A pipe closed at the timeout killed it with SIGPIPE at its first write.
  assert.deepEqual(await ws.lines("after-term"), ["wrote"]);
});

Deno.test("a command that cannot be started fails at once with its name", async () => {
  await using ws = await Workspace.create({
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [{ key: k1 }] }
    stages:
      - command: [./missing-program, --flag]
`,
  });
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, 1);
  const db = await ws.openDb();
  try {
    const [stage] = (await allItems(db, "j"))[0].stages;
    assert.equal(stage.status, "failed");
    assert.match(
      stage.error!,
      /^PermanentError: Cannot start command ".*missing-program": .*No such file or directory/,
    );
  } finally {
    await db.close();
  }
});

// 200 MB of stderr, then 1..1000 one per line; notes the runner's peak RSS as it ends.
const FLOOD = `#!/bin/sh
head -c 200000000 /dev/zero | tr '\\0' x >&2
seq 1 1000 >&2
grep VmHWM /proc/$PPID/status > hwm.txt
exit 3
`;

Deno.test("a command's stderr is read as it comes: 200 MB of it keep the runner small, its last 2,000 characters are kept", async () => {
  await using ws = await Workspace.create({
    "flood.sh": FLOOD,
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [{ key: k1 }] }
    stages:
      - { name: flood, command: [./flood.sh], retries: 0 }
`,
  });
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, 1, out.stderr);
  // The runner's peak RSS when all of stderr but the pipe's buffer had been read.
  const hwm = (await Deno.readTextFile(ws.path("hwm.txt"))).match(/^VmHWM:\s+(\d+) kB/);
  assert.ok(hwm, "the command noted the runner's VmHWM");
  const peakMb = Number(hwm[1]) / 1024;
  // About 80 MB for a run with no output; it was over 270 MB here when stderr was held whole.
  assert.ok(peakMb < 150, `peak RSS of the runner: ${peakMb.toFixed(0)} MB`);
  const numbers = Array.from({ length: 1000 }, (_, i) => i + 1).join("\n");
  const db = await ws.openDb();
  try {
    const [stage] = (await allItems(db, "j"))[0].stages;
    assert.equal(
      stage.error,
      `Error: Command "${ws.path("flood.sh")}" exited with code 3; stderr: …${
        numbers.slice(-2000)
      }`,
    );
  } finally {
    await db.close();
  }
});
