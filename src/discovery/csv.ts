/** csv: rows of a CSV file or URL with a header row; quoted fields as RFC 4180. */
import { z } from "zod";
import {
  BaseDiscovery,
  DiscoveryError,
  exactlyOne,
  fileOrUrlOptions,
  httpOptions,
  itemOptions,
  NOT_MODIFIED,
  type RawItem,
  recordItem,
} from "./base.ts";

/** Options of the csv strategy. */
export const schema = exactlyOne(
  z.strictObject({
    ...itemOptions,
    ...httpOptions,
    ...fileOrUrlOptions,
    /** Column whose value is the item key; default a "key" or "id" column, else hashUrl of "url". */
    key_column: z.string().min(1).optional(),
    /** Field separator; default ",". */
    delimiter: z.string().length(1).optional(),
  }),
  ["path", "url"],
);

/** Parsed options of the csv strategy. */
export type CsvOptions = z.infer<typeof schema>;

/** One item per row; data maps header names to the row's values (strings). */
export class CsvDiscovery extends BaseDiscovery<CsvOptions> {
  /**
   * The rows in file order, parsed as they are read each time the result is iterated, so a
   * large file is never held as records; a URL is fetched conditionally.
   */
  async fetchItems(): Promise<Iterable<RawItem>> {
    const body = await this.readLocalOrUrl(this.options.path ?? this.options.url!);
    if (body === NOT_MODIFIED) return [];
    // The parser is loaded on first use, not with the config's strategies.
    const { parse } = await import("csv-parse");
    const { delimiter = ",", key_column: column } = this.options;
    const rows = () => csvRows(() => parse(csvOptions(delimiter)), body.bytes, body.source);
    return {
      *[Symbol.iterator]() {
        let first = true;
        for (const row of rows()) {
          if (first && column !== undefined) checkColumn(row, column, body.source);
          first = false;
          const item = recordItem(row);
          yield column === undefined ? item : { ...item, key: row[column] };
        }
      },
    };
  }
}

/** What csv-parse is told: RFC 4180 with a header row, as the file's author wrote it. */
function csvOptions(delimiter: string) {
  return { columns: true, bom: true, delimiter, skip_empty_lines: true, trim: false } as const;
}

/** The parser's writable and readable sides, as csvRows() uses them. */
interface RowParser {
  write(chunk: Uint8Array): boolean;
  end(): void;
  read(): Record<string, string> | null;
  on(event: "error", listener: () => void): void;
  readonly errored: Error | null;
}

/** Bytes given to the parser at a time: the rows it yields between two writes. */
const CHUNK_BYTES = 64 * 1024;

/**
 * The rows of `bytes`, one at a time: the parser reads a chunk, its rows are taken, and so on.
 * Writing to it and reading from it are synchronous; an error is on `errored` at once.
 */
function* csvRows(
  make: () => RowParser,
  bytes: Uint8Array,
  source: string,
): Generator<Record<string, string>> {
  const parser = make();
  // Without a listener, the stream's "error" event would be thrown outside this generator.
  parser.on("error", () => {});
  for (let at = 0;; at += CHUNK_BYTES) {
    const last = at >= bytes.length;
    if (last) parser.end();
    else parser.write(bytes.subarray(at, at + CHUNK_BYTES));
    if (parser.errored) {
      throw new DiscoveryError(`Cannot parse CSV ${source}: ${parser.errored.message}`, {
        cause: parser.errored,
      });
    }
    for (let row = parser.read(); row !== null; row = parser.read()) yield row;
    if (last) return;
  }
}

function checkColumn(row: Record<string, string>, column: string, source: string): void {
  if (column in row) return;
  const found = Object.keys(row).map((name) => `"${name}"`).join(", ");
  throw new DiscoveryError(
    `Cannot find column "${column}" (key_column) in ${source}: the header has ${found}`,
  );
}
