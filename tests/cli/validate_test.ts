import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../../deno.json", import.meta.url));
const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
];

const VALID = `resources:
  openai: { concurrency: 2 }
jobs:
  feed:
    discovery:
      strategy: static
      every: 1h
      items: [{ key: a }]
    schedule: "*/15 * * * *"
    stages:
      - handler: builtin:fetch
      - name: summarise
        handler: ./handlers/summarise.ts
        uses: [openai]
      - command: [./bin/store.sh]
  notes:
    discovery: { strategy: static, items: [{ key: b }] }
    handler: ./handlers/tag.ts
`;

/** The handler files VALID names. */
const HANDLERS = {
  "handlers/summarise.ts": "export default async (item) => ({ key: item.key });\n",
  "handlers/tag.ts": "export const HANDLER_VERSION = 2;\nexport default function () {}\n",
  "bin/store.sh": "#!/bin/sh\ncat\n",
};

const INVALID = `jobs:
  feed:
    discovery:
      strategy: static
      items: [{ key: a }]
    stages:
      - handler: builtin:fetch
        concurency: 8
      - handler: ./summarise.ts
        timeout: soon
`;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `jobctl validate ARGS` in a temporary folder holding `files`. */
async function validate(
  files: Record<string, string>,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Outcome> {
  const dir = await Deno.makeTempDir({ prefix: "jobs_validate_" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.mkdir(dirname(join(dir, name)), { recursive: true });
      await Deno.writeTextFile(join(dir, name), text, {
        mode: name.endsWith(".sh") ? 0o755 : 0o644,
      });
    }
    const command = new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", DENO_JSON, ...PERMISSIONS, MAIN, "validate", ...args],
      cwd: dir,
      env: { ...env, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    });
    const { code, stdout, stderr } = await command.output();
    const decoder = new TextDecoder();
    return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("jobctl validate prints one summary line per job and exits 0", async () => {
  const result = await validate({ "jobs.yaml": VALID, ...HANDLERS });
  assert.equal(result.stderr, "");
  assert.equal(
    result.stdout,
    "feed: static discovery every 1h, 3 stages (fetch → summarise → store.sh), " +
      "schedule */15 * * * *\n" +
      "notes: static discovery, 1 stage (tag)\n",
  );
  assert.equal(result.code, 0);
});

Deno.test("jobctl validate prints every problem with file:line:col and exits 2, no stack trace", async () => {
  const result = await validate({ "custom.yaml": INVALID }, ["--config", "custom.yaml"]);
  assert.equal(result.stdout, "");
  assert.equal(
    result.stderr,
    'custom.yaml:8:9: jobs.feed.stages[0].concurency: unknown key "concurency" (did you mean "concurrency"?)\n' +
      'custom.yaml:9:18: jobs.feed.stages[1].handler: module "summarise.ts" does not exist\n' +
      'custom.yaml:10:18: jobs.feed.stages[1].timeout: expected a duration like "30s", got "soon"\n',
  );
  assert.equal(result.code, 2);
});

Deno.test("jobctl validate reads the file named by $JOBS_CONFIG", async () => {
  const result = await validate({ "other.yaml": INVALID, "jobs.yaml": VALID, ...HANDLERS }, [], {
    JOBS_CONFIG: "other.yaml",
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^other\.yaml:8:9: /);
});

Deno.test("jobctl validate --json prints the normalised config", async () => {
  const result = await validate({ "jobs.yaml": VALID, ...HANDLERS }, ["--json"]);
  assert.equal(result.code, 0);
  const config = JSON.parse(result.stdout);
  assert.deepEqual(config.jobs.map((job: { id: string }) => job.id), ["feed", "notes"]);
  assert.deepEqual(config.jobs[0].stages[1].uses, ["openai"]);
  assert.equal(config.jobs[0].discovery.everyMs, 3_600_000);
});

Deno.test("jobctl validate reports a missing config file and exits 2", async () => {
  const result = await validate({}, ["-c", "missing.yaml"]);
  assert.equal(
    result.stderr,
    "missing.yaml: cannot read the config: file not found " +
      "(choose another with --config FILE or $JOBS_CONFIG)\n",
  );
  assert.equal(result.code, 2);
});

Deno.test("jobctl validate rejects an unknown flag with exit 2", async () => {
  const result = await validate({ "jobs.yaml": VALID }, ["--frobnicate"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^jobctl validate: .*--frobnicate/);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
});

/** A pipeline with what jobctl run would hit in every stage, and a program that cannot start. */
const BROKEN = `jobs:
  feed:
    discovery: { strategy: command, command: [./list] }
    stages:
      - handler: handlers/extrct.ts
      - command: [python4, handlers/tag.py]
      - handler: handlers/syntax.ts
      - handler: handlers/no_default.ts
      - handler: handlers/not_function.js
      - handler: handlers/throws.ts
      - handler: handlers/imports.ts
      - handler: handlers/extract.ts
`;

const BROKEN_FILES = {
  "jobs.yaml": BROKEN,
  "list": "#!/bin/sh\necho []\n",
  "handlers/extract.ts": "export default (item) => item.data;\n",
  "handlers/syntax.ts": "export default function (item) {\n  return item.key +;\n}\n",
  "handlers/no_default.ts": "export function handle() {}\n",
  "handlers/not_function.js": 'export default "summarise";\n',
  "handlers/throws.ts":
    'const key = Deno.env.get("NO_SUCH_KEY");\nif (!key) throw new Error("NO_SUCH_KEY is not set");\nexport default () => key;\n',
  "handlers/imports.ts": 'import { helper } from "./helper.ts";\nexport default helper;\n',
};

Deno.test("jobctl validate loads every module and finds every program, reporting all with positions", async () => {
  const result = await validate(BROKEN_FILES);
  assert.equal(result.stdout, "");
  assert.equal(
    result.stderr,
    'jobs.yaml:3:47: jobs.feed.discovery.command[0]: program "list" is not executable (chmod +x list)\n' +
      'jobs.yaml:5:18: jobs.feed.stages[0].handler: module "handlers/extrct.ts" does not exist (did you mean "handlers/extract.ts"?)\n' +
      'jobs.yaml:6:19: jobs.feed.stages[1].command[0]: program "python4" is not on PATH\n' +
      "jobs.yaml:7:18: jobs.feed.stages[2].handler: handlers/syntax.ts:2:20: syntax error: Expression expected\n" +
      'jobs.yaml:8:18: jobs.feed.stages[3].handler: module "handlers/no_default.ts" has no default export; a module handler is "export default async function (item, ctx) { … }"\n' +
      'jobs.yaml:9:18: jobs.feed.stages[4].handler: the default export of "handlers/not_function.js" is a string, not a function\n' +
      "jobs.yaml:10:18: jobs.feed.stages[5].handler: handlers/throws.ts:2:17: throws while loading: Error: NO_SUCH_KEY is not set\n" +
      'jobs.yaml:11:18: jobs.feed.stages[6].handler: handlers/imports.ts:1:24: cannot load: Module not found "handlers/helper.ts"\n',
  );
  assert.equal(result.code, 2);
});

Deno.test("a module that exits or never finishes loading cannot end or hang jobctl validate", async () => {
  const result = await validate({
    "jobs.yaml": `jobs:
  feed:
    discovery: { strategy: static, items: [{ key: a }] }
    stages:
      - handler: ./exits.ts
      - handler: ./node_exit.js
      - handler: ./hangs.ts
`,
    "exits.ts": "Deno.exit(0);\nexport default () => 1;\n",
    "node_exit.js":
      'import process from "node:process";\nprocess.exit(3);\nexport default () => 1;\n',
    "hangs.ts": "await new Promise(() => {});\nexport default () => 1;\n",
  }, ["--import-timeout", "3s"]);
  assert.equal(
    result.stderr,
    "jobs.yaml:5:18: jobs.feed.stages[0].handler: exits.ts:1:6: ends the process while loading (Deno.exit(0)), which would stop every jobctl run\n" +
      "jobs.yaml:6:18: jobs.feed.stages[1].handler: node_exit.js:2:9: ends the process while loading (Deno.exit(3)), which would stop every jobctl run\n" +
      'jobs.yaml:7:18: jobs.feed.stages[2].handler: module "hangs.ts" is still loading after 3s: does it await something that never settles at its top level? (--import-timeout gives it longer)\n',
  );
  assert.equal(result.code, 2);
});

Deno.test("jobctl validate rejects a bad --import-timeout with exit 2", async () => {
  const result = await validate({ "jobs.yaml": VALID, ...HANDLERS }, ["--import-timeout", "soon"]);
  assert.deepEqual(
    [result.code, result.stderr],
    [2, '--import-timeout: expected a duration like "30s", got "soon"\n'],
  );
});
