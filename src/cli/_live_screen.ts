/** A block of lines kept at the bottom of a terminal, with log lines printed above it. */
import cliTruncate from "cli-truncate";

/** A terminal's size in character cells. */
export interface TerminalSize {
  columns: number;
  rows: number;
}

/** Options of LiveScreen. */
export interface LiveScreenOptions {
  /** The terminal's size now, read at every draw. Default: Deno.consoleSize(), else 80 × 24. */
  size?: () => TerminalSize;
}

const encoder = new TextEncoder();

/**
 * Draws a block (the progress table) below everything printed through log(), redrawing it in
 * place. Every block line is cut to the terminal's width, so none wraps and the block takes as
 * many rows as it has lines: erasing it never erases a log line, and leaves nothing of an older
 * block behind (unless a terminal re-wraps it after being made narrower; erasing more could
 * erase log lines). A block taller than the terminal is cut for the same reason.
 */
export class LiveScreen {
  #block: readonly string[] = [];
  /** Rows the block takes on the screen now. */
  #drawn = 0;
  readonly #size: () => TerminalSize;

  constructor(readonly out: { writeSync(p: Uint8Array): number }, options: LiveScreenOptions = {}) {
    this.#size = options.size ?? consoleSize;
  }

  /** Prints `line` above the block, then draws the block again below it. */
  log = (line: string): void => {
    this.#write(this.#erase() + line + "\n" + this.#draw());
  };

  /** Replaces the block with `lines`. */
  show(lines: readonly string[]): void {
    this.#block = lines;
    this.#write(this.#erase() + this.#draw());
  }

  /** Leaves the block on the screen as it is; lines logged from now on go below it. */
  close(): void {
    this.#block = [];
    this.#drawn = 0;
  }

  #erase(): string {
    return this.#drawn ? `\r\x1b[${this.#drawn}A\x1b[J` : "";
  }

  #draw(): string {
    const { columns, rows } = this.#size();
    const room = Math.max(1, rows - 1);
    const lines = this.#block.length > room
      ? [...this.#block.slice(0, room - 1), `… ${this.#block.length - room + 1} more`]
      : this.#block;
    this.#drawn = lines.length;
    return lines.map((line) => cliTruncate(line.replace(/\p{Cc}/gu, " "), columns) + "\n")
      .join("");
  }

  #write(text: string): void {
    let bytes = encoder.encode(text);
    try {
      while (bytes.length) bytes = bytes.subarray(this.out.writeSync(bytes));
    } catch {
      // The terminal has gone away (hang-up): there is no one left to show anything to.
    }
  }
}

/** The size of the terminal on stdout, stderr or stdin; 80 × 24 when none tells. */
function consoleSize(): TerminalSize {
  try {
    const size = Deno.consoleSize();
    if (size.columns > 0 && size.rows > 0) return size;
  } catch {
    // Not a terminal.
  }
  return { columns: 80, rows: 24 };
}
