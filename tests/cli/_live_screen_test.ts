import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { LiveScreen, type TerminalSize } from "../../src/cli/_live_screen.ts";
import { type ScreenLine, VirtualTerminal } from "./_terminal.ts";

/** A LiveScreen writing into a virtual terminal of `size`, which the test can change. */
function screenOn(size: TerminalSize) {
  const terminal = new VirtualTerminal(size, { convertEol: true });
  const screen = new LiveScreen({
    writeSync(p) {
      terminal.write(p);
      return p.length;
    },
  }, { size: () => size });
  return { terminal, screen, size };
}

function texts(lines: ScreenLine[]): string[] {
  return lines.map((l) => l.text);
}

Deno.test("LiveScreen keeps every log line above the block and no older copy of the block", async () => {
  const { terminal, screen } = screenOn({ columns: 30, rows: 8 });
  screen.show(["stage  done", "fetch     1"]);
  screen.log("first log line");
  screen.show(["stage  done", "fetch     2"]);
  screen.log("a log line longer than thirty columns, wrapped by the terminal");
  screen.log("third");
  screen.show(["stage  done", "fetch     3"]);
  screen.close();
  screen.log("after the end");
  await terminal.settled();
  assertEquals(terminal.lines(), [
    { text: "first log line", rows: 1 },
    { text: "a log line longer than thirty columns, wrapped by the terminal", rows: 3 },
    { text: "third", rows: 1 },
    { text: "stage  done", rows: 1 },
    { text: "fetch     3", rows: 1 },
    { text: "after the end", rows: 1 },
  ]);
});

Deno.test("LiveScreen cuts block lines to the width and the block to the height", async () => {
  const { terminal, screen, size } = screenOn({ columns: 20, rows: 4 });
  const block = ["job   stage   done  failed", "feed  fetch     12       0"];
  screen.show([...block, "feed  parse      3       1", "feed  store      0       0"]);
  await terminal.settled();
  assertEquals(texts(terminal.lines()), [
    "job   stage   done …",
    "feed  fetch     12 …",
    "… 2 more",
  ]);
  // Wider: the next draw follows the new width, and erases exactly the rows it drew before.
  size.columns = 40;
  size.rows = 10;
  terminal.resize(size);
  screen.log("logged after the resize");
  await terminal.settled();
  assertEquals(texts(terminal.lines()), [
    "logged after the resize",
    ...block,
    "feed  parse      3       1",
    "feed  store      0       0",
  ]);
  assertEquals(terminal.lines().every((l) => l.rows === 1), true);
});

Deno.test("LiveScreen writes control characters of a block line as spaces", async () => {
  const { terminal, screen } = screenOn({ columns: 40, rows: 5 });
  screen.show(["stage\nwith\u001b[2Jcontrol"]);
  await terminal.settled();
  assertEquals(texts(terminal.lines()), ["stage with [2Jcontrol"]);
});
