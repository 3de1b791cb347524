/**
 * isProcessAlive() in child processes, as jobctl runs: Deno lets a program read /proc only with
 * --allow-all, so with jobctl's own permissions the kernel is asked with signal 0 instead.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MODULE = fileURLToPath(new URL("../../src/util/process.ts", import.meta.url));

/** What the probe prints: its start time as /proc gives it, and what it finds alive. */
interface Probe {
  ownStart: string | null;
  own: boolean;
  ownReused: boolean;
  exited: boolean;
}

/** Runs a probe with `permissions`, given the pid of a process that has exited. */
async function probe(permissions: string[], exitedPid: number): Promise<Probe> {
  const dir = await Deno.makeTempDir({ prefix: "jobs_process_" });
  try {
    const script = join(dir, "probe.ts");
    await Deno.writeTextFile(
      script,
      `import { isProcessAlive, processStartTime } from ${JSON.stringify(MODULE)};
const ownStart = processStartTime(Deno.pid) ?? null;
console.log(JSON.stringify({
  ownStart,
  own: isProcessAlive(Deno.pid, ownStart),
  ownReused: isProcessAlive(Deno.pid, "1"),
  exited: isProcessAlive(${exitedPid}, null),
}));`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...permissions, script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(out.stderr), "");
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The pid of a process that has exited. */
async function exitedPid(): Promise<number> {
  const child = new Deno.Command("true", { stdout: "null", stderr: "null" }).spawn();
  await child.status;
  return child.pid;
}

Deno.test("with --allow-all isProcessAlive() compares /proc start times: a reused pid is dead", async () => {
  const found = await probe(["--allow-all"], await exitedPid());
  assert.match(found.ownStart ?? "", /^\d+$/);
  assert.deepEqual({ ...found, ownStart: "n" }, {
    ownStart: "n",
    own: true,
    ownReused: false,
    exited: false,
  });
});

Deno.test("with jobctl's permissions isProcessAlive() asks the kernel with signal 0", async () => {
  const permissions = [
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-run",
    "--allow-sys",
  ];
  // Without /proc a pid cannot be told from its reuse: the process is taken as alive.
  assert.deepEqual(await probe(permissions, await exitedPid()), {
    ownStart: null,
    own: true,
    ownReused: true,
    exited: false,
  });
});
