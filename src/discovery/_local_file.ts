/** Reading a local file for a discovery: bounded by max_bytes, .gz decompressed. */
import { BodyTooLarge, CorruptGzip, digestBody, readBody } from "../util/body.ts";
import { DiscoveryError } from "./_http.ts";

/** The bytes of the file at `path`, at most `maxBytes`; a DiscoveryError names the file. */
export function readLocalFile(path: string, maxBytes: number): Promise<Uint8Array> {
  return withFile(path, maxBytes, (file) => readBody(file.readable, { maxBytes }));
}

/**
 * digest() of what readLocalFile() returns, read a chunk at a time: an unchanged file is told
 * from a changed one without holding it.
 */
export function digestLocalFile(path: string, maxBytes: number): Promise<string> {
  return withFile(path, maxBytes, (file) => digestBody(file.readable, { maxBytes }));
}

async function withFile<T>(
  path: string,
  maxBytes: number,
  read: (file: Deno.FsFile) => Promise<T>,
): Promise<T> {
  try {
    if ((await Deno.stat(path)).size > maxBytes) throw new BodyTooLarge(maxBytes, false);
    return await read(await Deno.open(path));
  } catch (err) {
    const reason = err instanceof BodyTooLarge
      ? err.message.replace(/(\d+) bytes$/, "max_bytes ($1 bytes)")
      : err instanceof CorruptGzip
      ? `cannot decompress gzip: ${err.message}`
      : (err as Error).message;
    throw new DiscoveryError(`Cannot read "${path}": ${reason}`, { cause: err });
  }
}
