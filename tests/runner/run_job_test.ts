import assert from "node:assert/strict";

import { allItems, finish, resultsOf, Workspace } from "./_helpers.ts";

const WORDS_HANDLER = `export const HANDLER_VERSION = "w1";
export default function handle(item, ctx) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url),
    \`words \${item.key} \${Date.now()}\\n\`, { append: true });
  return { words: ctx.results.fetch.body.split(" ").length };
}
`;

// A command handler: reads {item, results, context} on stdin, prints its result on stdout.
const TAG_COMMAND = `const input = JSON.parse(await new Response(Deno.stdin.readable).text());
const words = input.results.words.words;
console.log(JSON.stringify({
  tag: words > 2 ? "long" : "short",
  status: input.results.fetch.status,
  context: input.context,
}));
`;

const COUNT_HANDLER = `export default function handle(item) {
  return { letters: item.data.text.length };
}
`;

const BODIES: Record<string, string> = {
  p1: "alpha beta gamma",
  p2: "delta epsilon",
  p3: "zeta eta theta iota",
  p4: "kappa",
  p5: "lambda mu",
};

function pipelineYaml(port: number): string {
  const items = Object.keys(BODIES)
    .map((key) => `        - { key: ${key}, url: "http://127.0.0.1:${port}/${key}" }`)
    .join("\n");
  return `jobs:
  pages:
    discovery:
      strategy: static
      items:
${items}
    stages:
      - name: fetch
        handler: builtin:fetch
        concurrency: 1
      - name: words
        handler: ./words.ts
      - name: tag
        command: ["${Deno.execPath()}", "run", "--quiet", "./tag.ts"]
        version: t1
  single:
    discovery:
      strategy: static
      items: [{ key: s1, text: abc }, { key: s2, text: hello }]
    handler: ./count.ts
`;
}

/** A page server that answers after 60 ms and records when it answered each path. */
function pageServer(): { server: Deno.HttpServer<Deno.NetAddr>; served: Map<string, number> } {
  const served = new Map<string, number>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const key = new URL(req.url).pathname.slice(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    served.set(key, Date.now());
    return new Response(BODIES[key], { headers: { "content-type": "text/plain" } });
  });
  return { server, served };
}

Deno.test("jobctl run takes items through a module, a command and the builtin fetch, and a one-handler job through the same worker", async () => {
  const { server, served } = pageServer();
  await using ws = await Workspace.create({
    "words.ts": WORDS_HANDLER,
    "tag.ts": TAG_COMMAND,
    "count.ts": COUNT_HANDLER,
  });
  try {
    await ws.write("jobs.yaml", pipelineYaml(server.addr.port));
    const out = await ws.jobs(["run"]);
    assert.equal(out.code, 0, out.stderr);
    const db = await ws.openDb();
    try {
      assert.deepEqual(
        (await db.stageStats("pages")).map((s) => [s.stage, s.done, s.pending, s.failed]),
        [["fetch", 5, 0, 0], ["words", 5, 0, 0], ["tag", 5, 0, 0]],
      );
      const p1 = (await allItems(db, "pages")).find((i) => i.key === "p1")!;
      const results = await resultsOf(db, "pages", p1.key);
      assert.deepEqual(results.map((r) => [r.stage, r.handlerVersion]), [
        ["fetch", "builtin:fetch"],
        ["words", "w1"],
        ["tag", "t1"],
      ]);
      const fetched = results[0].result as Record<string, unknown>;
      assert.equal(fetched.status, 200);
      assert.equal(fetched.body, "alpha beta gamma");
      assert.equal(fetched.contentType, "text/plain");
      assert.deepEqual(results[1].result, { words: 3 });
      assert.deepEqual(results[2].result, {
        tag: "long",
        status: 200,
        context: { job: "pages", stage: "tag", mode: "production", attempt: 1 },
      });
      // The one-handler job is a pipeline of one stage named after its module.
      assert.deepEqual(
        (await db.stageStats("single")).map((s) => [s.stage, s.done]),
        [["count", 2]],
      );
      const s2 = (await allItems(db, "single")).find((i) => i.key === "s2")!;
      assert.deepEqual((await resultsOf(db, "single", s2.key)).map((r) => r.result), [{
        letters: 5,
      }]);
    } finally {
      await db.close();
    }
    assert.match(out.stderr, /pages: discovered 5 \(5 new, 0 updated\); fetch: 5 done/);
    assert.match(out.stderr, /single: discovered 2 \(2 new, 0 updated\); count: 2 done/);
  } finally {
    await server.shutdown();
  }
  // No barrier: an item's second stage ran before the first stage had fetched every item.
  const wordsStarts = (await ws.lines("calls.log")).map((line) => Number(line.split(" ")[2]));
  assert.equal(wordsStarts.length, 5);
  const lastFetch = Math.max(...served.values());
  assert.ok(
    Math.min(...wordsStarts) < lastFetch,
    `first "words" call at ${Math.min(...wordsStarts)}, last fetch answered at ${lastFetch}`,
  );
});

Deno.test("a second jobctl run finds nothing to do and calls no handler", async () => {
  await using ws = await Workspace.create({
    "count.ts": `export default function handle(item) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), item.key + "\\n", { append: true });
  return { ok: true };
}
`,
    "jobs.yaml": `jobs:
  single:
    discovery: { strategy: static, items: [{ key: a }, { key: b }, { key: c }] }
    handler: ./count.ts
`,
  });
  const first = await ws.jobs(["run"]);
  assert.equal(first.code, 0, first.stderr);
  const second = await ws.jobs(["run"]);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual((await ws.lines("calls.log")).sort(), ["a", "b", "c"]);
  assert.match(second.stderr, /single: discovered 3 \(0 new, 0 updated\) job=single$/m);
});

Deno.test("handlers and commands are found relative to jobs.yaml, not the working folder", async () => {
  await using ws = await Workspace.create({});
  await Deno.mkdir(ws.path("conf"));
  await ws.write(
    "conf/mod.ts",
    `export default function handle() { return { from: "module" }; }\n`,
  );
  await ws.write("conf/cmd.sh", `#!/bin/sh\ncat > /dev/null\necho "{\\"cwd\\":\\"$(pwd)\\"}"\n`);
  await ws.write(
    "conf/jobs.yaml",
    `db: ../jobs.sqlite
jobs:
  j:
    discovery: { strategy: static, items: [{ key: a }] }
    stages:
      - handler: ./mod.ts
      - command: [./cmd.sh]
`,
  );
  const out = await finish(ws.spawn(["run", "--config", "conf/jobs.yaml"]));
  assert.equal(out.code, 0, out.stderr);
  const db = await ws.openDb();
  try {
    const [item] = await allItems(db, "j");
    assert.deepEqual((await resultsOf(db, "j", item.key)).map((r) => r.result), [
      { from: "module" },
      { cwd: await Deno.realPath(ws.path("conf")) },
    ]);
  } finally {
    await db.close();
  }
});

Deno.test("a handler module that is missing or has no default export fails its job, naming the file and stage", async () => {
  await using ws = await Workspace.create({
    "noexport.ts": `export const HANDLER_VERSION = "1";\n`,
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [{ key: a }] }
    stages:
      - { name: first, handler: ./missing.ts }
`,
  });
  const missing = await ws.jobs(["run"]);
  assert.equal(missing.code, 1);
  const notFound = `${ws.path("missing.ts")}: cannot load the handler of stage "first": ` +
    `Module not found "${ws.path("missing.ts")}"`;
  assert.ok(missing.stderr.includes(`j: cannot run: ${notFound}`), missing.stderr);
  assert.doesNotMatch(missing.stderr, /^\s+at /m);

  await ws.write(
    "jobs.yaml",
    `jobs:
  j:
    discovery: { strategy: static, items: [{ key: a }] }
    stages:
      - { name: second, handler: ./noexport.ts }
`,
  );
  const noExport = await ws.jobs(["run"]);
  assert.equal(noExport.code, 1);
  const noDefault = `${ws.path("noexport.ts")}: the handler of stage "second" has no default ` +
    "export function";
  assert.ok(noExport.stderr.includes(`j: cannot run: ${noDefault}`), noExport.stderr);
  const db = await ws.openDb();
  try {
    const events = await db.getEvents({ jobId: "j", kind: "handler_error" });
    assert.deepEqual(events.map((e) => e.message), [noDefault, notFound]);
  } finally {
    await db.close();
  }
});
