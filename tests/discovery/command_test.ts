import assert from "node:assert/strict";
import { join } from "node:path";
import { DiscoveryError, hashUrl } from "../../src/discovery/base.ts";
import { CommandDiscovery, schema } from "../../src/discovery/command.ts";
import { testEnv } from "./_server.ts";
import { groupsGone } from "../_processes.ts";

const deno = Deno.execPath();

function evalCommand(code: string, extra: Record<string, unknown> = {}) {
  return schema.parse({ command: [deno, "eval", code], ...extra });
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(() => undefined, (e) => e);
  assert.ok(err instanceof DiscoveryError, `expected a DiscoveryError, got ${err}`);
  return err.message;
}

Deno.test("command reads JSON lines from stdout, keyed by id, key or url", async () => {
  await using t = await testEnv();
  const code = `
    console.log(JSON.stringify({ id: 1, title: "one" }));
    console.log("");
    console.log(JSON.stringify({ key: "two", title: "two" }));
    console.log(JSON.stringify({ url: "https://example.com/3" }));`;
  const items = [...(await new CommandDiscovery(evalCommand(code), t.env).discover()).items];
  assert.deepEqual(items.map((i) => i.key), ["1", "two", hashUrl("https://example.com/3")]);
  assert.deepEqual(items[0].data, { id: 1, title: "one" });
  assert.equal(items[2].data.url, "https://example.com/3");
});

Deno.test("command reads a JSON array and runs in the jobs.yaml folder", async () => {
  await using t = await testEnv();
  const code =
    `console.log(JSON.stringify([{ id: "a", cwd: Deno.cwd() }, { id: "b", cwd: Deno.cwd() }]))`;
  const result = await new CommandDiscovery(evalCommand(code), t.env).discover();
  assert.deepEqual([...result.items], [
    { key: "a", data: { id: "a", cwd: await Deno.realPath(t.dir) } },
    { key: "b", data: { id: "b", cwd: await Deno.realPath(t.dir) } },
  ]);
});

Deno.test("a program path with a slash is relative to the jobs.yaml folder; no shell is used", async () => {
  await using t = await testEnv();
  await Deno.mkdir(join(t.dir, "bin"));
  const script = join(t.dir, "bin", "list.sh");
  await Deno.writeTextFile(script, `#!/bin/sh\nprintf '{"id":"%s"}\\n' "$1" "$2"\n`);
  await Deno.chmod(script, 0o755);
  const options = schema.parse({ command: ["./bin/list.sh", "a b", "$HOME;c"] });
  const result = await new CommandDiscovery(options, t.env).discover();
  assert.deepEqual([...result.items].map((i) => i.key), ["a b", "$HOME;c"]);
});

Deno.test("a failing command reports its exit code and the tail of stderr", async () => {
  await using t = await testEnv();
  const code = `console.error("x".repeat(1000) + "the real reason"); Deno.exit(3)`;
  const message = await failure(new CommandDiscovery(evalCommand(code), t.env).discover());
  assert.ok(message.startsWith(`Command "${deno}" exited with code 3: …xxx`), message);
  assert.ok(message.endsWith("the real reason"));
  assert.equal(message.length, `Command "${deno}" exited with code 3: …`.length + 500);
});

Deno.test("a command running past its timeout is killed and reported", async () => {
  await using t = await testEnv();
  const options = evalCommand("await new Promise((r) => setTimeout(r, 10000))", {
    timeout: "300ms",
  });
  const message = await failure(new CommandDiscovery(options, t.env).discover());
  assert.equal(message, `Command "${deno}" timed out after 0.3s`);
});

Deno.test("on timeout the whole process group is killed, even when a grandchild holds stdout", async () => {
  await using t = await testEnv();
  // The shell starts two sleeps; the first, in the background, keeps stdout open.
  const options = schema.parse({
    command: ["sh", "-c", "echo $$ > leader.pid; sleep 120 & sleep 120"],
    timeout: "1s",
  });
  const started = Date.now();
  const message = await failure(new CommandDiscovery(options, t.env).discover());
  assert.equal(message, 'Command "sh" timed out after 1s');
  assert.ok(Date.now() - started < 20_000, `the wait ended ${Date.now() - started} ms after start`);
  const pgid = Number(await Deno.readTextFile(join(t.dir, "leader.pid")));
  await groupsGone([pgid]);
});

Deno.test("bad output names the line; a missing program is reported", async () => {
  await using t = await testEnv();
  const code = `console.log('{"id":1}'); console.log('{"id":'); console.log('{"id":3}')`;
  const message = await failure(new CommandDiscovery(evalCommand(code), t.env).discover());
  assert.match(
    message,
    new RegExp(`^Cannot parse JSON at line 2 of the output of "${deno.replaceAll("/", "\\/")}": `),
  );
  const notObject = await failure(
    new CommandDiscovery(evalCommand("console.log('[1]')"), t.env).discover(),
  );
  assert.equal(
    notObject,
    `Cannot use element 1 of the output of "${deno}": expected a JSON object, got 1`,
  );
  const missing = schema.parse({ command: ["no-such-program-here"] });
  assert.equal(
    await failure(new CommandDiscovery(missing, t.env).discover()),
    'Cannot run "no-such-program-here": program not found',
  );
});
