import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { INIT_FILES } from "../../src/cli/_init_files.ts";
import { jobs } from "./_seed.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

async function tempDir(): Promise<AsyncDisposable & { dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "jobctl_init_" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

async function files(dir: string, under = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(join(dir, under))) {
    const path = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory) found.push(...await files(dir, path));
    else found.push(path);
  }
  return found.sort();
}

Deno.test("jobctl init DIR writes a project that jobctl run runs offline", async () => {
  await using tmp = await tempDir();
  const init = await jobs(tmp.dir, ["init", "news/feed"]);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /^Wrote a starting point into news\/feed:\n/);
  assert.match(init.stdout, /\nNext: cd news\/feed && jobctl validate && jobctl test -j hello/);
  const project = join(tmp.dir, "news/feed");
  assert.deepEqual(await files(project), [
    ".gitignore",
    "handlers/count.ts",
    "handlers/jobctl.ts",
    "handlers/jobs_worker.py",
    "handlers/line.py",
    "handlers/tag.py",
    "jobs.yaml",
  ]);
  const validate = await jobs(project, ["validate"]);
  assert.deepEqual(
    [validate.code, validate.stdout, validate.stderr],
    [0, "hello: static discovery, 3 stages (count → tag → line)\n", ""],
  );
  const run = await jobs(project, ["run"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stderr,
    /hello: discovered 2 \(2 new, 0 updated\); count: 2 done, 0 skipped, 0 to retry, 0 failed; tag: 2 done, 0 skipped, 0 to retry, 0 failed; line: 2 done, 0 skipped, 0 to retry, 0 failed/,
  );
  const first = JSON.parse(
    (await jobs(project, ["item", "-j", "hello", "first", "--json"])).stdout,
  );
  assert.deepEqual(
    first.results.map((r: { stage: string; result: unknown }) => [r.stage, r.result]),
    [
      ["count", { words: 9 }],
      ["tag", { tag: "short", words: 9 }],
      ["line", { line: "first: 9 words, short" }],
    ],
  );
  const second = JSON.parse(
    (await jobs(project, ["item", "-j", "hello", "second", "--json"])).stdout,
  );
  assert.deepEqual(second.results[1].result, { tag: "long", words: 15 });
  assert.deepEqual(second.results[2].result, { line: "second: 15 words, long" });
  // The worker protocol module is the one shipped in the repository.
  assert.equal(
    await Deno.readTextFile(join(project, "handlers/jobs_worker.py")),
    await Deno.readTextFile(join(REPO, "workers/jobs_worker.py")),
  );
  assert.deepEqual(await files(project), [
    ".gitignore",
    "handlers/count.ts",
    "handlers/jobctl.ts",
    "handlers/jobs_worker.py",
    "handlers/line.py",
    "handlers/tag.py",
    "jobs.sqlite",
    "jobs.yaml",
  ]);
});

Deno.test("jobctl init in the current folder, and the template's PermanentError fails a stage at once", async () => {
  await using tmp = await tempDir();
  const init = await jobs(tmp.dir, ["init"]);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /^Wrote a starting point into this folder:\n/);
  assert.match(init.stdout, /\nNext: jobctl validate && /);
  // An item without text: the module throws the PermanentError of handlers/jobctl.ts.
  const path = join(tmp.dir, "jobs.yaml");
  const yaml = await Deno.readTextFile(path);
  await Deno.writeTextFile(
    path,
    yaml.replace("        - { key: first,", "        - { key: blank }\n        - { key: first,"),
  );
  const run = await jobs(tmp.dir, ["run"]);
  assert.equal(run.code, 1, run.stderr);
  const blank = JSON.parse(
    (await jobs(tmp.dir, ["item", "-j", "hello", "blank", "--json"])).stdout,
  );
  assert.deepEqual(
    blank.stages.map((s: { stage: string; status: string; attempts: number; error: string }) => [
      s.stage,
      s.status,
      s.attempts,
      s.error,
    ]),
    [
      ["count", "failed", 1, 'PermanentError: Item "blank" has no text, summary or title'],
      ["tag", "pending", 0, null],
      ["line", "pending", 0, null],
    ],
  );
});

Deno.test("jobctl init refuses to overwrite, naming the file, and writes nothing", async () => {
  await using tmp = await tempDir();
  await Deno.mkdir(join(tmp.dir, "handlers"));
  await Deno.writeTextFile(join(tmp.dir, "handlers/tag.py"), "mine\n");
  const out = await jobs(tmp.dir, ["init", "."]);
  assert.deepEqual([out.code, out.stdout], [2, ""]);
  assert.equal(
    out.stderr,
    'jobctl init writes nothing: "handlers/tag.py" already exists, and init never overwrites a file\n',
  );
  assert.deepEqual(await files(tmp.dir), ["handlers/tag.py"]);
  assert.equal(await Deno.readTextFile(join(tmp.dir, "handlers/tag.py")), "mine\n");
  const extra = await jobs(tmp.dir, ["init", "a", "b"]);
  assert.deepEqual(
    [extra.code, extra.stderr],
    [2, "jobctl init takes one folder at most: jobctl init [DIR]\n"],
  );
});

Deno.test("the handler types of jobctl init type-check and accept what the runner passes, batches too", async () => {
  await using tmp = await tempDir();
  for (const file of INIT_FILES) {
    await Deno.mkdir(join(tmp.dir, "handlers"), { recursive: true });
    await Deno.writeTextFile(join(tmp.dir, file.path), file.text);
  }
  // A handler written against Context and Item can be given the runner's real arguments.
  await Deno.writeTextFile(
    join(tmp.dir, "check.ts"),
    `import type { BatchContext as RunnerBatchContext, BatchItem as RunnerBatchItem, HandlerContext, HandlerItem } from "${REPO}src/runner/handlers.ts";
import type { WorkerFinal } from "${REPO}src/runner/worker_protocol.ts";
import type { BatchContext, BatchItem, Context, Item, Outcome } from "./handlers/jobctl.ts";
import count from "./handlers/count.ts";
export const run: (item: HandlerItem, ctx: HandlerContext) => unknown = count;
export const item: Item = {} as HandlerItem;
export const ctx: Context = {} as HandlerContext;
export const batchItem: BatchItem = {} as RunnerBatchItem;
export const batchCtx: BatchContext = {} as RunnerBatchContext;
export const outcome: WorkerFinal = { id: 1, ...({} as Outcome) };
`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--config", join(REPO, "deno.json"), "check.ts", "handlers/count.ts"],
    cwd: tmp.dir,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
});
