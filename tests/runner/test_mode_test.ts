import assert from "node:assert/strict";

import { hashUrl } from "../../src/discovery/base.ts";
import { allItems, fileHash, finish, statusMap, waitFor, Workspace } from "./_helpers.ts";
import { TEST_PG_URL } from "../db/_helpers.ts";

// Logs "<mode> <stage> <key>" and returns which earlier results it was given.
const HANDLER = `export default function handle(item, ctx) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url),
    \`\${ctx.mode} \${ctx.stage} \${item.key}\\n\`, { append: true });
  return { stage: ctx.stage, saw: Object.keys(ctx.results) };
}
`;

function yaml(keys = ["k1", "k2", "k3", "k4", "k5"]): string {
  return `jobs:
  j:
    discovery:
      strategy: static
      items: [${keys.map((k) => `{ key: ${k} }`).join(", ")}]
    stages:
      - { name: a, handler: ./h.ts }
      - { name: b, handler: ./h.ts }
      - { name: c, handler: ./h.ts }
`;
}

/** SHA-256 of an empty file. */
const EMPTY_FILE = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

async function hashes(ws: Workspace): Promise<string[]> {
  return [await fileHash(ws.dbPath), await fileHash(ws.dbPath + "-wal")];
}

/** "stage key: outcome" of each stage report `jobctl test` printed. */
function reports(stdout: string): string[] {
  return [...stdout.matchAll(/^── j \/ (\w+) \/ (\S+): (\w+) in \d+ms$/gm)]
    .map((m) => `${m[1]} ${m[2]}: ${m[3]}`);
}

Deno.test("jobctl test runs 3 items in a scratch database, prints each stage's input and output, and leaves the real one byte-for-byte unchanged", async () => {
  await using ws = await Workspace.create({ "h.ts": HANDLER, "jobs.yaml": yaml() });
  const first = await ws.jobs(["run"]);
  assert.equal(first.code, 0, first.stderr);
  const before = await hashes(ws);
  await Deno.remove(ws.path("calls.log"));

  const out = await ws.jobs(["test", "-j", "j"]);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(await hashes(ws), before);
  assert.deepEqual(reports(out.stdout).sort(), [
    "a k1: done",
    "a k2: done",
    "a k3: done",
    "b k1: done",
    "b k2: done",
    "b k3: done",
    "c k1: done",
    "c k2: done",
    "c k3: done",
  ]);
  assert.ok(
    out.stdout.includes(
      `── j / c / k2: done in`,
    ),
  );
  const block = out.stdout.slice(out.stdout.indexOf("── j / c / k2"));
  const [, input, output] = block.split("\n");
  assert.equal(
    input,
    `   input:  {"key":"k2","data":{},"results":{"a":{"stage":"a","saw":[]},"b":{"stage":"b","saw":["a"]}}}`,
  );
  assert.equal(output, `   output: {"stage":"c","saw":["a","b"]}`);
  assert.match(out.stdout, /9 stage runs on 3 items in .*jobs\.test\.sqlite/);
  assert.deepEqual(
    (await ws.lines("calls.log")).every((line) => line.startsWith("test ")),
    true,
  );
  const scratch = await ws.openDb(ws.path("jobs.test.sqlite"));
  try {
    assert.deepEqual(await statusMap(scratch, "j"), {
      k1: "a=done b=done c=done",
      k2: "a=done b=done c=done",
      k3: "a=done b=done c=done",
    });
  } finally {
    await scratch.close();
  }
});

Deno.test("jobctl test --limit and --item pick the items; an unknown --item is a usage error", async () => {
  await using ws = await Workspace.create({ "h.ts": HANDLER, "jobs.yaml": yaml() });
  const limited = await ws.jobs(["test", "-j", "j", "--limit", "2"]);
  assert.equal(limited.code, 0, limited.stderr);
  assert.deepEqual(
    new Set(reports(limited.stdout).map((r) => r.split(" ")[1].slice(0, -1))),
    new Set(["k1", "k2"]),
  );

  const one = await ws.jobs(["test", "-j", "j", "--item", "k4"]);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(reports(one.stdout), ["a k4: done", "b k4: done", "c k4: done"]);

  const url = "https://example.org/post/1";
  const byUrl = await ws.jobs(["test", "-j", "j", "--item", url, "--stage", "a"]);
  assert.equal(byUrl.code, 0, byUrl.stderr);
  assert.deepEqual(reports(byUrl.stdout), [`a ${hashUrl(url)}: done`]);
  assert.ok(byUrl.stdout.includes(`input:  {"key":"${hashUrl(url)}","data":{"url":"${url}"}`));

  const unknown = await ws.jobs(["test", "-j", "j", "--item", "nope"]);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr.trim(), 'Item "nope" was not found by discovery');
});

Deno.test("jobctl test --stage runs up to that stage; with --no-reset it reruns only that stage on the earlier results", async () => {
  await using ws = await Workspace.create({ "h.ts": HANDLER, "jobs.yaml": yaml() });
  const upToB = await ws.jobs(["test", "-j", "j", "--stage", "b", "--limit", "1"]);
  assert.equal(upToB.code, 0, upToB.stderr);
  assert.deepEqual(reports(upToB.stdout), ["a k1: done", "b k1: done"]);

  await Deno.remove(ws.path("calls.log"));
  const onlyB = await ws.jobs(["test", "-j", "j", "--stage", "b", "--limit", "1", "--no-reset"]);
  assert.equal(onlyB.code, 0, onlyB.stderr);
  assert.deepEqual(reports(onlyB.stdout), ["b k1: done"]);
  assert.deepEqual(await ws.lines("calls.log"), ["test b k1"]);
  assert.ok(
    onlyB.stdout.includes(`input:  {"key":"k1","data":{},"results":{"a":{"stage":"a","saw":[]}}}`),
  );

  const badStage = await ws.jobs(["test", "-j", "j", "--stage", "zz"]);
  assert.equal(badStage.code, 2);
  assert.equal(badStage.stderr.trim(), 'Job "j" has no stage "zz" (stages: a, b, c)');
  assert.equal(await fileHash(ws.dbPath), "missing", "the production database was never made");
});

Deno.test("jobctl run --dry-run calls no handler and writes nothing, with or without a database", async () => {
  await using ws = await Workspace.create({ "h.ts": HANDLER, "jobs.yaml": yaml(["k1", "k2"]) });
  const fresh = await ws.jobs(["run", "--dry-run"]);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stderr, /dry run: j: discovered 2 \(2 new, 0 updated\)/);
  assert.equal(await fileHash(ws.dbPath), "missing");
  assert.deepEqual(await ws.lines("calls.log"), []);

  const real = await ws.jobs(["run"]);
  assert.equal(real.code, 0, real.stderr);
  await Deno.remove(ws.path("calls.log"));
  await ws.write("jobs.yaml", yaml(["k1", "k2", "k3"]));
  const before = await hashes(ws);
  const dry = await ws.jobs(["run", "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stderr, /dry run: j: discovered 3 \(1 new, 0 updated\); a: 0 would run/);
  const [main, wal] = await hashes(ws);
  assert.equal(main, before[0]);
  // A read-only SQLite connection may leave an empty -wal file beside the database.
  assert.ok(wal === before[1] || wal === EMPTY_FILE, `-wal changed: ${wal}`);
  assert.deepEqual(await ws.lines("calls.log"), []);
  const db = await ws.openDb();
  try {
    assert.equal((await allItems(db, "j")).length, 2);
    assert.deepEqual((await db.stageStats("j")).map((s) => s.done), [2, 2, 2]);
  } finally {
    await db.close();
  }
});

/** The open flags (O_ACCMODE bits: 0 read-only, 1 write-only, 2 read-write) of `pid`'s `path`. */
async function openModes(pid: number, path: string): Promise<number[]> {
  const script = `for fd in /proc/${pid}/fd/*; do
  if [ "$(readlink "$fd")" = "$1" ]; then grep '^flags:' "/proc/${pid}/fdinfo/\${fd##*/}"; fi
done`;
  const out = await new Deno.Command("sh", { args: ["-c", script, "sh", path], stdout: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean)
    .map((line) => parseInt(line.split(/\s+/)[1], 8) & 3);
}

Deno.test({
  name: "jobctl run --dry-run opens an existing database read-only",
  // It reads the open flags of the SQLite file under /proc; on PostgreSQL a read-only store is a
  // read-only transaction (tests/db/pg_schema_test.ts).
  ignore: Deno.build.os !== "linux" || TEST_PG_URL !== undefined,
  fn: async () => {
    await using ws = await Workspace.create({
      "h.ts": HANDLER,
      "jobs.yaml": yaml(["k1"]),
      // Lists one item once the file "go" exists: the dry run holds the store open till then.
      "list.sh": `#!/bin/sh
while [ ! -e go ]; do sleep 0.02; done
echo '[{"key": "k1"}]'
`,
    });
    const real = await ws.jobs(["run"]);
    assert.equal(real.code, 0, real.stderr);
    await ws.write(
      "jobs.yaml",
      (yaml(["k1"])).replace(
        /discovery:\n[^]*?\n {4}stages/,
        "discovery: { strategy: command, command: [./list.sh] }\n    stages",
      ),
    );
    const dry = ws.spawn(["run", "--config", ws.path("jobs.yaml"), "--dry-run"]);
    const outcome = finish(dry);
    try {
      await waitFor(
        "the dry run to open the database",
        async () => (await openModes(dry.pid, await Deno.realPath(ws.dbPath))).length > 0,
        30_000,
      );
      const modes = await openModes(dry.pid, await Deno.realPath(ws.dbPath));
      assert.deepEqual(modes.filter((mode) => mode !== 0), [], `open modes: ${modes}`);
    } finally {
      await ws.write("go", "");
    }
    const out = await outcome;
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /dry run: j: discovered 1 \(0 new, 0 updated\)/);
  },
});
