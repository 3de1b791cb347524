import assert from "node:assert/strict";
import { join } from "node:path";
import { command, jobs } from "./_seed.ts";

// A job whose handler leaves a mark, so that a command that runs it cannot go unnoticed.
const FILES = {
  "jobs.yaml": `jobs:
  feed:
    discovery: { strategy: static, items: [{ key: a }] }
    handler: ./mark.ts
`,
  "mark.ts": `export default function () {
  Deno.writeTextFileSync(new URL("./ran.txt", import.meta.url), "ran");
}
`,
};

const COMMANDS = [
  "init",
  "run",
  "test",
  "validate",
  "status",
  "items",
  "item",
  "events",
  "costs",
  "pause",
  "unpause",
  "wake",
  "retry",
  "reprocess",
  "doctor",
  "dashboard",
  "migrate",
  "prune",
  "metrics",
];

async function folderWith(
  files: Record<string, string>,
): Promise<AsyncDisposable & { dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "jobctl_help_" });
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, name), text);
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("jobctl help lists every command", async () => {
  await using w = await folderWith(FILES);
  const out = await jobs(w.dir, ["help"]);
  assert.equal(out.code, 0);
  const listed = [...out.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]);
  assert.deepEqual(listed, COMMANDS);
});

Deno.test("every command's --help and -h print its help, exit 0 and do nothing else", async () => {
  await using w = await folderWith(FILES);
  const results = await Promise.all(
    COMMANDS.flatMap((name) =>
      ["--help", "-h"].map(async (flag) => ({
        name,
        flag,
        out: await jobs(w.dir, [name, flag, "-j", "feed"]),
      }))
    ),
  );
  for (const { name, flag, out } of results) {
    const { HELP } = await import(`../../src/cli/${name}.ts`);
    assert.equal(out.stdout, `${HELP}\n`, `${name} ${flag}`);
    assert.match(out.stdout, new RegExp(`^Usage: jobctl ${name}\\b`));
    assert.deepEqual([out.code, out.stderr], [0, ""], `${name} ${flag}`);
  }
  assert.deepEqual(await names(w.dir), ["jobs.yaml", "mark.ts"], "no store, no run, no init");
});

Deno.test("jobctl help COMMAND is COMMAND --help", async () => {
  await using w = await folderWith(FILES);
  const [viaHelp, viaFlag] = await Promise.all([
    jobs(w.dir, ["help", "run"]),
    jobs(w.dir, ["run", "--help"]),
  ]);
  assert.equal(viaHelp.code, 0);
  assert.equal(viaHelp.stdout, viaFlag.stdout);
  const unknown = await jobs(w.dir, ["help", "frobnicate"]);
  assert.deepEqual(
    [unknown.code, unknown.stderr],
    [2, 'jobctl: unknown command "frobnicate"; run "jobctl help" for the list\n'],
  );
});

Deno.test("the help of run and test names each of their flags with its default", async () => {
  await using w = await folderWith(FILES);
  const run = (await jobs(w.dir, ["run", "--help"])).stdout;
  for (const flag of ["--job", "--due", "--limit", "--discover-only", "--dry-run", "--watch"]) {
    assert.match(run, new RegExp(`^ {2}(-j, )?${flag}\\b`, "m"), flag);
  }
  assert.match(run, /--max-runtime DURATION .*\(default no limit\)/s);
  assert.match(run, /--watch .*default 15m for discovery over HTTP/s);
  assert.match(run, /--config FILE .*\(default \$JOBS_CONFIG, else \.\/jobs\.yaml\)/);
  const test = (await jobs(w.dir, ["test", "-h"])).stdout;
  for (const flag of ["--job", "--limit", "--item", "--stage", "--no-reset"]) {
    assert.match(test, new RegExp(`^ {2}(-j, )?${flag}\\b`, "m"), flag);
  }
  assert.match(test, /--limit N +discover at most N items \(default 3\)/);
});

Deno.test("--help after -- is an argument, not a request for help", async () => {
  await using w = await folderWith(FILES);
  const child = await command(w.dir, ["item", "-j", "feed", "--", "--help"]).output();
  assert.equal(child.code, 1, "looked up the item called --help");
  assert.equal(new TextDecoder().decode(child.stderr), 'No item "--help" in job "feed"\n');
});
