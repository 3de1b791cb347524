/**
 * `jobctl run` in a real pseudo-terminal (python3's pty module), its output read back through a
 * virtual terminal: the live table stays below the log lines, never wraps, follows a resize,
 * counts running handlers, and ends with exact numbers.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PERMISSIONS } from "./_seed.ts";
import { type ScreenLine, VirtualTerminal } from "./_terminal.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../../deno.json", import.meta.url));
const PTY = fileURLToPath(new URL("./_pty.py", import.meta.url));
const WAIT_MS = 30_000;

// Logs its start; fetch waits for the file "release"; k3 fails and k5 is skipped at fetch.
const HANDLER = `export default async function handle(item, ctx) {
  ctx.log.info(\`start \${ctx.stage} \${item.key}\`);
  if (ctx.stage !== "fetch") return {};
  const release = new URL("./release", import.meta.url);
  while (!(await Deno.stat(release).then(() => true, () => false))) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (item.key === "k3") {
    const err = new Error("no such page");
    err.name = "PermanentError";
    throw err;
  }
  if (item.key === "k5") ctx.skip("not an article");
  return {};
}
`;

const KEYS = Array.from({ length: 12 }, (_, i) => `k${i}`);

const CONFIG = `jobs:
  feed:
    discovery: { strategy: static, items: [${KEYS.map((k) => `{ key: ${k} }`).join(", ")}] }
    stages:
      - { name: fetch, handler: ./h.ts, concurrency: 2 }
      - { name: parse, handler: ./h.ts, concurrency: 3 }
`;

/** `jobctl run` in a pseudo-terminal of `size`, with its output fed to a virtual terminal. */
function runInTerminal(dir: string, size: { columns: number; rows: number }) {
  const child = new Deno.Command("python3", {
    args: [PTY, String(size.columns), String(size.rows), Deno.execPath(), "run"]
      .concat(["--config", DENO_JSON, ...PERMISSIONS, MAIN, "run", "--config", "jobs.yaml"]),
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const terminal = new VirtualTerminal(size);
  const reader = child.stdout.getReader();
  const resizer = child.stdin.getWriter();
  let ended = false;
  /** Reads output until `test(lines)` holds; fails after WAIT_MS, saying what it waited for. */
  const until = async (what: string, test: (lines: ScreenLine[]) => boolean) => {
    const deadline = Date.now() + WAIT_MS;
    while (!test(terminal.lines())) {
      assert.ok(!ended, `The run ended before ${what}:\n${texts(terminal.lines()).join("\n")}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`No ${what} within ${WAIT_MS} ms`)),
          deadline - Date.now(),
        );
      });
      const chunk = await Promise.race([reader.read(), late]).finally(() => clearTimeout(timer));
      if (chunk.done) ended = true;
      else terminal.write(chunk.value);
      await terminal.settled();
    }
  };
  return {
    terminal,
    until,
    async resize(next: { columns: number; rows: number }) {
      // The virtual terminal first: what the program drew at the old size fits the new one.
      terminal.resize(next);
      await resizer.write(new TextEncoder().encode(`${next.columns} ${next.rows}\n`));
    },
    async finish(): Promise<number> {
      await until("end of the output", () => ended);
      await resizer.close();
      return (await child.status).code;
    },
  };
}

function texts(lines: ScreenLine[]): string[] {
  return lines.map((l) => l.text);
}

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info |warn |error) /;

/** The lines of the progress table: its header and its rows (log lines start with a time). */
function tableLines(lines: ScreenLine[]): ScreenLine[] {
  return lines.filter((l) => /^(job|feed) /.test(l.text));
}

/** The cells of the last drawn row of `stage`, split on runs of spaces. */
function lastRow(lines: ScreenLine[], stage: string): string[] | undefined {
  const rows = tableLines(lines).map((l) => l.text.split(/\s+/)).filter((c) => c[1] === stage);
  return rows[rows.length - 1];
}

Deno.test("in a terminal, jobctl run keeps log lines above a table that fits the width and ends exact", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jobs_display_" });
  try {
    await Deno.writeTextFile(join(dir, "jobs.yaml"), CONFIG);
    await Deno.writeTextFile(join(dir, "h.ts"), HANDLER);
    const run = runInTerminal(dir, { columns: 48, rows: 30 });

    // fetch holds 4 claims (twice its concurrency) while 2 handlers run and wait for "release".
    await run.until("table with 2 fetch handlers running", (lines) => {
      const row = lastRow(lines, "fetch");
      return row?.[5] === "2" && lines.filter((l) => l.text.includes("start fetch")).length === 2;
    });
    const narrow = tableLines(run.terminal.lines());
    assert.ok(narrow.every((l) => l.rows === 1 && l.text.length <= 48), texts(narrow).join("\n"));
    assert.ok(narrow.some((l) => l.text.endsWith("…")), "the table is cut to 48 columns");
    assert.deepEqual(lastRow(run.terminal.lines(), "fetch"), [
      "feed",
      "fetch",
      "0",
      "0",
      "0",
      "2",
      "…",
    ]);

    await run.resize({ columns: 100, rows: 30 });
    await run.until("table drawn at 100 columns", (lines) => {
      const table = tableLines(lines);
      return table[table.length - 3]?.text.endsWith("ETA") ?? false;
    });
    // 2 running, 10 pending: the 2 claimed rows that wait for a free handler are pending.
    const [wide] = tableLines(run.terminal.lines()).slice(-2);
    assert.deepEqual(wide.text.split(/\s+/).slice(0, 7), [
      "feed",
      "fetch",
      "0",
      "0",
      "0",
      "2",
      "10",
    ]);
    assert.match(wide.text, / (-|0\.0\/s) +-$/);
    await Deno.writeTextFile(join(dir, "release"), "");
    assert.equal(await run.finish(), 1, "a stage failed");

    const lines = run.terminal.lines();
    const table = tableLines(lines);
    assert.equal(table.length, 3, `one table, no stale copies:\n${texts(lines).join("\n")}`);
    assert.ok(table.every((l) => l.rows === 1 && l.text.length <= 100), texts(table).join("\n"));
    assert.deepEqual(table[0].text.split(/\s+/), HEAD);
    assert.deepEqual(withoutRate(lastRow(lines, "fetch")), [
      "feed",
      "fetch",
      "10",
      "1",
      "1",
      "0",
      "0",
      "done",
    ]);
    // k3 failed at fetch: its parse row stays pending.
    assert.deepEqual(withoutRate(lastRow(lines, "parse")), [
      "feed",
      "parse",
      "11",
      "0",
      "0",
      "0",
      "1",
      "done",
    ]);

    const logged = lines.filter((l) => TIMESTAMP.test(l.text)).map((l) =>
      l.text.replace(TIMESTAMP, "")
    );
    const expected = [
      ...KEYS.map((k) => `start fetch ${k} job=feed stage=fetch item=${k}`),
      ...KEYS.filter((k) => k !== "k3").map((k) =>
        `start parse ${k} job=feed stage=parse item=${k}`
      ),
      "PermanentError: no such page job=feed stage=fetch item=k3 attempt=1",
    ];
    assert.deepEqual(logged.slice(0, -1).sort(), expected.sort());
    assert.match(
      logged[logged.length - 1],
      /^feed: discovered 12 \(12 new, 0 updated\); fetch: 10 done/,
    );
    // The table is the last thing before the summary line.
    assert.deepEqual(lines.slice(-4, -1), table);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const HEAD = ["job", "stage", "done", "failed", "skipped", "running", "pending", "rate", "ETA"];

/** A row with its rate checked for form and left out (its value depends on the machine). */
function withoutRate(row: string[] | undefined): string[] | undefined {
  assert.match(row?.[7] ?? "", /^\d+\.\d\/(s|min)$/);
  return row && [...row.slice(0, 7), ...row.slice(8)];
}

// One stage at concurrency 1 whose handler takes 200 ms: never more than 5 items a second.
const SLOW_CONFIG = `jobs:
  feed:
    discovery: { strategy: static, items: [${
  KEYS.concat(KEYS.map((k) => `${k}b`)).map((k) => `{ key: ${k} }`).join(", ")
}] }
    stages:
      - { name: s, handler: ./slow.ts, concurrency: 1 }
`;
const SLOW = `export default async function handle() {
  await new Promise((resolve) => setTimeout(resolve, 200));
  return {};
}
`;

Deno.test("off a terminal, jobctl run --progress-every 1s logs the rate items are done at", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jobs_progress_lines_" });
  try {
    await Deno.writeTextFile(join(dir, "jobs.yaml"), SLOW_CONFIG);
    await Deno.writeTextFile(join(dir, "slow.ts"), SLOW);
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", DENO_JSON, ...PERMISSIONS, MAIN, "run", "--progress-every", "1s"],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const text = new TextDecoder().decode(stderr);
    assert.equal(code, 0, text);
    const progress = [...text.matchAll(
      /feed\/s: (\d+) done, 0 failed, 0 skipped, ([01]) running, (\d+) pending, (\d+\.\d)\/s, ETA (\S+)/g,
    )].map(([, done, running, pending, rate, eta]) => ({
      done: Number(done),
      running: Number(running),
      pending: Number(pending),
      rate: Number(rate),
      eta,
    }));
    assert.ok(progress.length >= 2, `at least 4 s of work logs 2 progress lines:\n${text}`);
    for (const p of progress) {
      // Every line counts from the start of the run: items were done, so the rate is above 0.
      assert.equal(p.rate > 0, p.done > 0, JSON.stringify(p));
      assert.ok(p.rate <= 5, `at most 5 items a second: ${JSON.stringify(p)}`);
      assert.equal(p.eta === "-", p.rate === 0, JSON.stringify(p));
      assert.equal(p.done + p.running + p.pending, 24);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jobctl run rejects a --progress-every that is not a duration above 0 with exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jobs_progress_usage_" });
  try {
    await Deno.writeTextFile(join(dir, "jobs.yaml"), SLOW_CONFIG);
    for (
      const [value, message] of [
        ["0s", '--progress-every expects a duration above 0, got "0s"'],
        ["soon", '--progress-every: expected a duration like "30s", got "soon"'],
      ]
    ) {
      const { code, stderr } = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--config",
          DENO_JSON,
          ...PERMISSIONS,
          MAIN,
          "run",
          "--progress-every",
          value,
        ],
        cwd: dir,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.deepEqual([code, new TextDecoder().decode(stderr)], [2, `${message}\n`]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
