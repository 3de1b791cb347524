/**
 * Messages that echo input stay short and printable, whatever the input: jobs.yaml values,
 * what a command handler prints, what a discovery source returns.
 */
import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";

import { allItems, Workspace } from "./_helpers.ts";

const X80 = "x".repeat(80);
// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f]/;

Deno.test("jobs run quotes at most 80 characters of a huge jobs.yaml; a binary one is one line", async () => {
  await using ws = await Workspace.create({ "jobs.yaml": "a".repeat(300_000) });
  const huge = await ws.jobs(["run"]);
  assert.equal(huge.code, EXIT.usage);
  assert.equal(
    huge.stderr,
    `${ws.path("jobs.yaml")}:1:1: expected a mapping with a "jobs" key at the top level, ` +
      `got "${"a".repeat(80)}…" (300000 characters)\n`,
  );

  await Deno.writeFile(ws.path("jobs.yaml"), new Uint8Array(4096).map((_, i) => [1, 2, 27][i % 3]));
  const binary = await ws.jobs(["run"]);
  assert.equal(binary.code, EXIT.usage);
  assert.equal(
    binary.stderr,
    `${ws.path("jobs.yaml")}:1:1: invalid YAML: the stream contains non-printable characters\n`,
  );
});

Deno.test("a command handler's garbage on stdout is quoted in 80 characters, escaped", async () => {
  await using ws = await Workspace.create({
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [{ key: huge }, { key: binary }] }
    stages:
      - name: print
        command: [sh, -c, 'if grep -q huge; then head -c 300000 /dev/zero | tr "\\\\0" x; else printf "\\\\001\\\\033[2J%.0s" $(seq 100); fi']
`,
  });
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, EXIT.failed, out.stderr);
  const db = await ws.openDb();
  try {
    const errors = Object.fromEntries(
      (await allItems(db, "j")).map((i) => [i.key, i.stages[0].error!]),
    );
    const prefix = 'PermanentError: Command "sh" printed invalid JSON on stdout';
    assert.equal(
      errors.huge,
      `${prefix} (Unexpected token 'x', "xxxxxxxxxx"... is not valid JSON): ` +
        `"${X80}…" (300000 characters)`,
    );
    assert.ok(errors.binary.startsWith(`${prefix} (`), errors.binary);
    assert.ok(
      errors.binary.endsWith(`: "${"\\u0001\\u001b[2J".repeat(5)}…" (500 characters)`),
      errors.binary,
    );
    assert.doesNotMatch(errors.binary, CONTROL, "no raw control character");
  } finally {
    await db.close();
  }
});

Deno.test("a discovery source's huge or binary records are quoted in 80 characters", async () => {
  await using ws = await Workspace.create({
    // A JSON line holding a 300,000-character string, then binary garbage.
    "huge.sh": `#!/bin/sh\nprintf '"'; head -c 300000 /dev/zero | tr '\\0' x; printf '"\\n'\n`,
    "binary.sh": `#!/bin/sh\nprintf '{"a": \\001\\033[2J}\\n'\n`,
    "jobs.yaml": `jobs:
  huge:
    discovery: { strategy: command, command: [./huge.sh] }
    handler: builtin:fetch
  binary:
    discovery: { strategy: command, command: [./binary.sh] }
    handler: builtin:fetch
`,
  });
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, EXIT.failed, out.stderr);
  const db = await ws.openDb();
  try {
    const [huge] = await db.getEvents({ jobId: "huge", kind: "discovery_error" });
    assert.equal(
      huge.message,
      'Cannot use line 1 of the output of "./huge.sh": expected a JSON object, ' +
        `got "${X80}…" (300000 characters)`,
    );
    const [binary] = await db.getEvents({ jobId: "binary", kind: "discovery_error" });
    assert.match(
      binary.message,
      /^Cannot parse JSON at line 1 of the output of "\.\/binary\.sh": /,
    );
    assert.ok(binary.message.includes("\\u0001"), binary.message);
    assert.doesNotMatch(binary.message, CONTROL, "no raw control character");
  } finally {
    await db.close();
  }
});

Deno.test("a feed with a 300,000-character tag name gives short warnings naming the URL", async () => {
  const name = "t".repeat(300_000);
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(`<rss><${name}></x></rss>`, { headers: { "content-type": "text/xml" } }),
  );
  const url = `http://127.0.0.1:${server.addr.port}/feed.xml`;
  await using ws = await Workspace.create({
    "jobs.yaml": `jobs:
  feed:
    discovery: { strategy: rss, url: "${url}", retries: 0 }
    handler: builtin:fetch
`,
  });
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, 0, out.stderr);
  assert.ok(out.stderr.length < 2000, `${out.stderr.length} characters of log`);
  const db = await ws.openDb();
  try {
    const events = await db.getEvents({ jobId: "feed", kind: "discovery_warning" });
    assert.deepEqual(events.map((e) => e.message).sort(), [
      `Feed ${url}: an end tag </x> that closes no open element (ignored) at line 1, column 300008`,
      `Feed ${url}: an unclosed <"${"t".repeat(80)}…" (300000 characters)> (closed by </rss>) ` +
      `at line 1, column 300012`,
    ]);
  } finally {
    await db.close();
  }
});
