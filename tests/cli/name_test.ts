import assert from "node:assert/strict";
import { PROGRAM, VERSION } from "../../src/version.ts";
import { jobs } from "./_seed.ts";

/** What `shell -c script` prints on stdout and stderr together, run in an empty environment. */
async function shell(shell: string, script: string): Promise<string> {
  const out = await new Deno.Command(shell, {
    args: ["-c", script],
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const decoder = new TextDecoder();
  return (decoder.decode(out.stdout) + decoder.decode(out.stderr)).trim();
}

Deno.test("the executable's name is not a builtin or keyword of bash or dash", async () => {
  // The old name shows that the checks can fail.
  assert.equal(await shell("bash", "type -t jobs"), "builtin");
  assert.match(await shell("dash", "command -V jobs"), /^jobs is a shell builtin$/);
  assert.equal(PROGRAM, "jobctl");
  // Not found at all, or a file on PATH: either way `jobctl` runs the program.
  assert.match(await shell("bash", `type -t ${PROGRAM} || true`), /^(|file)$/);
  assert.match(
    await shell("dash", `command -V ${PROGRAM} || true`),
    new RegExp(`^${PROGRAM}: not found$|^${PROGRAM} is /`),
  );
});

Deno.test("jobctl --version prints the name and the version constant", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jobctl_version_" });
  try {
    const out = await jobs(dir, ["--version"]);
    assert.deepEqual([out.code, out.stdout, out.stderr], [0, `jobctl ${VERSION}\n`, ""]);
  } finally {
    await Deno.remove(dir);
  }
});
