import assert from "node:assert/strict";
import { join } from "node:path";
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
      await Deno.writeTextFile(join(dir, name), text);
    }
    const command = new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", DENO_JSON, ...PERMISSIONS, MAIN, "validate", ...args],
      cwd: dir,
      env: { ...env, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    });
    const { code, stdout, stderr } = await command.output();
    const decoder = new TextDecoder();
    return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("jobctl validate prints one summary line per job and exits 0", async () => {
  const result = await validate({ "jobs.yaml": VALID });
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
      'custom.yaml:10:18: jobs.feed.stages[1].timeout: expected a duration like "30s", got "soon"\n',
  );
  assert.equal(result.code, 2);
});

Deno.test("jobctl validate reads the file named by $JOBS_CONFIG", async () => {
  const result = await validate({ "other.yaml": INVALID, "jobs.yaml": VALID }, [], {
    JOBS_CONFIG: "other.yaml",
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^other\.yaml:8:9: /);
});

Deno.test("jobctl validate --json prints the normalised config", async () => {
  const result = await validate({ "jobs.yaml": VALID }, ["--json"]);
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
