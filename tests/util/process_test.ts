import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { isProcessAlive, processStartTime } from "../../src/util/process.ts";

const MODULE = fileURLToPath(new URL("../../src/util/process.ts", import.meta.url));

/** The pid of a process that has exited, its start time taken while it ran. */
async function exitedProcess(): Promise<{ pid: number; startTime: string | undefined }> {
  const child = new Deno.Command("sleep", { args: ["30"], stdout: "null", stderr: "null" })
    .spawn();
  const startTime = processStartTime(child.pid);
  child.kill("SIGKILL");
  await child.status;
  return { pid: child.pid, startTime };
}

Deno.test("isProcessAlive() reads /proc: a live process, an exited one, a reused pid", async () => {
  const own = processStartTime(Deno.pid);
  assert.match(own ?? "", /^\d+$/);
  assert.equal(isProcessAlive(Deno.pid, own!), true);
  assert.equal(isProcessAlive(Deno.pid, null), true);
  assert.equal(isProcessAlive(Deno.pid, "1"), false, "another process under the same pid");
  const exited = await exitedProcess();
  assert.match(exited.startTime ?? "", /^\d+$/);
  assert.equal(isProcessAlive(exited.pid, exited.startTime!), false);
});

Deno.test("without read permission isProcessAlive() asks the kernel with signal 0", async () => {
  const exited = await exitedProcess();
  const script = `import { isProcessAlive } from ${JSON.stringify(MODULE)};
console.log(JSON.stringify([isProcessAlive(Deno.pid, null), isProcessAlive(${exited.pid}, null)]));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-prompt", "--allow-run", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stderr), "");
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [true, false]);
});
