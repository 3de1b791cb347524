import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { VERSION } from "../../src/version.ts";
import { jobctlFlags } from "../../scripts/_jobctl_flags.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** A folder of the user's, outside the repository, with its own jobs.yaml and handler. */
const USER_FILES = {
  "jobs.yaml": `jobs:
  mine:
    discovery: { strategy: static, items: [{ key: a }] }
    handler: ./count.ts
`,
  "count.ts": "export default (item) => ({ key: item.key });\n",
  "sub/other.yaml": `jobs:
  other:
    discovery: { strategy: static, every: 1h, items: [{ key: b }] }
    handler: ../count.ts
`,
};

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function folderWith(
  files: Record<string, string>,
): Promise<AsyncDisposable & { dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "jobctl_user_" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(dirname(join(dir, name)), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/**
 * Runs `program args` in `cwd` with a clean environment: no $INIT_CWD inherited from a
 * `deno task test`, deno on PATH, and what reaching the package registry takes here (the cache,
 * a proxy, the certificate authorities).
 */
const PASSED_ON = [
  "HOME",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
  "DENO_CERT",
  "NODE_EXTRA_CA_CERTS",
  "DENO_TLS_CA_STORE",
  "NPM_CONFIG_REGISTRY",
];

async function run(program: string, args: string[], cwd: string): Promise<Outcome> {
  const env: Record<string, string> = {
    PATH: `${dirname(Deno.execPath())}:/usr/bin:/bin`,
    NO_COLOR: "1",
  };
  for (const name of PASSED_ON) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const out = await new Deno.Command(program, {
    args,
    cwd,
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** The words of the command in README that starts with `start`, its `\` lines joined. */
async function readmeCommand(start: string): Promise<string[]> {
  const readme = await Deno.readTextFile(join(REPO, "README.md"));
  const at = readme.indexOf(`\n${start} `);
  assert.notEqual(at, -1, `README has no line starting with "${start}"`);
  const lines: string[] = [];
  for (const line of readme.slice(at + 1).split("\n")) {
    lines.push(line.replace(/\\$/, ""));
    if (!line.endsWith("\\")) break;
  }
  return lines.join(" ").split(/\s+/).filter((word) => word !== "");
}

/** The words between README's `--config PATH` and the path of main.ts: jobctl's Deno flags. */
function flagsOf(words: string[]): string[] {
  const from = words.indexOf("--config") + 2;
  return words.slice(from, words.findIndex((word) => /main\.ts"?$/.test(word)));
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("deno install --global as README says gives a jobctl that works in any folder", async () => {
  await using root = await folderWith({});
  await using user = await folderWith(USER_FILES);
  // README's line as written, with `--root` so that it installs into the test's folder.
  const words = (await readmeCommand("deno install"))
    .map((word) => word.replaceAll('"$PWD/', REPO).replaceAll('"', ""))
    .flatMap((word) => word === "--global" ? [word, "--root", root.dir] : [word]);
  const install = await run(Deno.execPath(), words.slice(1), user.dir);
  assert.equal(install.code, 0, install.stderr);
  const jobctl = join(root.dir, "bin", "jobctl");
  assert.ok(
    (await Deno.readTextFile(jobctl)).includes(jobctlFlags().join(" ")),
    "the task's flags",
  );
  const version = await run(jobctl, ["--version"], user.dir);
  assert.deepEqual([version.code, version.stdout], [0, `jobctl ${VERSION}\n`]);
  const validate = await run(jobctl, ["validate"], user.dir);
  assert.deepEqual(
    [validate.code, validate.stdout],
    [0, "mine: static discovery, 1 stage (count)\n"],
    validate.stderr,
  );
});

Deno.test("deno task --cwd REPO jobctl reads jobs.yaml, --config and --db from the caller's folder", async () => {
  await using user = await folderWith(USER_FILES);
  const task = (args: string[]) =>
    run(Deno.execPath(), ["task", "--cwd", REPO, "jobctl", ...args], user.dir);
  const validate = await task(["validate"]);
  assert.deepEqual(
    [validate.code, validate.stdout],
    [0, "mine: static discovery, 1 stage (count)\n"],
    validate.stderr,
  );
  const other = await task(["validate", "--config", "sub/other.yaml"]);
  assert.deepEqual(
    [other.code, other.stdout],
    [0, "other: static discovery every 1h, 1 stage (count)\n"],
    other.stderr,
  );
  const db = "caller-folder-test.sqlite";
  const ran = await task(["run", "--db", db]);
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stderr, /mine: discovered 1 \(1 new, 0 updated\); count: 1 done/);
  assert.ok(await exists(join(user.dir, db)), "the store is in the caller's folder");
  assert.ok(!await exists(join(REPO, db)), "and not in the repository");
});

Deno.test("README's install and run lines and the start task give jobctl the flags of the jobctl task", async () => {
  const flags = jobctlFlags();
  assert.ok(flags.includes("--allow-run") && flags.some((f) => f.startsWith("--v8-flags=")));
  assert.deepEqual(flagsOf(await readmeCommand("deno install")), flags);
  assert.deepEqual(flagsOf(await readmeCommand("deno run")), flags);
  assert.deepEqual(jobctlFlags("start"), flags);
});
