import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** `deno task compile OUTPUT` with `DENORT_BIN`, as a user would run it. */
async function compile(output: string, denort: string): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compile", output],
    cwd: REPO,
    env: { DENORT_BIN: denort, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(300_000),
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("deno task compile deletes a plain Deno built from DENORT_BIN=deno and fails, leaving no dist/", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "jobctl_compile_" });
  try {
    const output = join(tmp, "dist", "jobctl");
    const result = await compile(output, Deno.execPath());
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `Deleted ${output}: it is not jobctl; "${output} --version" printed "deno ${Deno.version.deno} [^"]*" instead of "jobctl \\d+\\.\\d+\\.\\d+"\\. ` +
          `DENORT_BIN must be a denort binary of Deno ${Deno.version.deno} .*; it is "${Deno.execPath()}"`,
      ),
    );
    assert.ok(!await exists(join(tmp, "dist")), "no dist/ is left behind");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("deno task compile fails with a DENORT_BIN that does not exist, leaving no dist/", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "jobctl_compile_" });
  try {
    const denort = join(tmp, "no-such-denort");
    const result = await compile(join(tmp, "dist", "jobctl"), denort);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`deno compile failed \\(see above\\); nothing was built\\. .*; it is "${denort}"`),
    );
    assert.ok(!await exists(join(tmp, "dist")), "no dist/ is left behind");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
