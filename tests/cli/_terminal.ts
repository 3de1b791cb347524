/**
 * A virtual terminal for tests: xterm.js without a screen, fed with what a program wrote, read
 * back as a person would see it (the scrollback, then the screen).
 */
import xterm from "@xterm/headless";

/** A line of output as the terminal holds it: its text and the rows it takes. */
export interface ScreenLine {
  text: string;
  /** More than 1 when the terminal wrapped it. */
  rows: number;
}

/** A headless xterm of `columns` × `rows` with a long scrollback. */
export class VirtualTerminal {
  readonly #term: InstanceType<typeof xterm.Terminal>;
  #written: Promise<void> = Promise.resolve();

  constructor(size: { columns: number; rows: number }, options: { convertEol?: boolean } = {}) {
    this.#term = new xterm.Terminal({
      cols: size.columns,
      rows: size.rows,
      scrollback: 100_000,
      allowProposedApi: true,
      // A pseudo-terminal turns "\n" into "\r\n"; without one, the test asks xterm to.
      convertEol: options.convertEol ?? false,
    });
  }

  /** Feeds bytes or text to the terminal; settled() waits until it has parsed them. */
  write(data: string | Uint8Array): void {
    const copy = typeof data === "string" ? data : data.slice();
    this.#written = this.#written.then(() => new Promise((done) => this.#term.write(copy, done)));
  }

  /** Resolves once everything written so far has been parsed. */
  settled(): Promise<void> {
    return this.#written;
  }

  /** Changes the size, as a window resize does (xterm.js re-wraps lines like most terminals). */
  resize(size: { columns: number; rows: number }): void {
    this.#written = this.#written.then(() => this.#term.resize(size.columns, size.rows));
  }

  /** Every line in the scrollback and on the screen, wrapped rows joined; trailing blanks dropped. */
  lines(): ScreenLine[] {
    const buffer = this.#term.buffer.active;
    const lines: ScreenLine[] = [];
    for (let i = 0; i < buffer.length; i++) {
      const row = buffer.getLine(i)!;
      const text = row.translateToString(true);
      const last = lines[lines.length - 1];
      if (row.isWrapped && last) {
        last.text += text;
        last.rows++;
      } else lines.push({ text, rows: 1 });
    }
    while (lines.length && lines[lines.length - 1].text === "") lines.pop();
    return lines;
  }
}
