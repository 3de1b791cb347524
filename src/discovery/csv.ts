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
  /** The rows in file order; a URL is fetched conditionally. */
  async fetchItems(): Promise<RawItem[]> {
    const body = await this.readLocalOrUrl(this.options.path ?? this.options.url!);
    if (body === NOT_MODIFIED) return [];
    const rows = await parseCsv(
      new TextDecoder().decode(body.bytes),
      body.source,
      this.options.delimiter,
    );
    const column = this.options.key_column;
    if (column !== undefined && rows.length > 0 && !(column in rows[0])) {
      const found = Object.keys(rows[0]).map((name) => `"${name}"`).join(", ");
      throw new DiscoveryError(
        `Cannot find column "${column}" (key_column) in ${body.source}: the header has ${found}`,
      );
    }
    return rows.map((row) => {
      const item = recordItem(row);
      return column === undefined ? item : { ...item, key: row[column] };
    });
  }
}

/** The rows of `text`; the parser is loaded on first use, not with the config's strategies. */
async function parseCsv(
  text: string,
  source: string,
  delimiter = ",",
): Promise<Record<string, string>[]> {
  const { parse } = await import("csv-parse");
  try {
    return parse(text, {
      columns: true,
      bom: true,
      delimiter,
      skip_empty_lines: true,
      trim: false,
    });
  } catch (err) {
    throw new DiscoveryError(`Cannot parse CSV ${source}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
