/** The items of an upsert as the engines write them: keys as stored, data as JSON, in chunks. */
import type { NewItem } from "./types.ts";

/**
 * Reads `items` once and yields them `size` at a time as [key, data JSON] pairs. A key is taken
 * as it is stored (a lone surrogate becomes U+FFFD); a key given again keeps its first data,
 * unless the caller vouches that none is (`unique`).
 */
export function* uniqueChunks(
  items: Iterable<NewItem>,
  size: number,
  unique = false,
): Generator<[string, string][]> {
  const seen = unique ? undefined : new Set<string>();
  let chunk: [string, string][] = [];
  for (const item of items) {
    const key = item.key.toWellFormed();
    if (seen?.has(key)) continue;
    seen?.add(key);
    chunk.push([key, JSON.stringify(item.data)]);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length) yield chunk;
}
