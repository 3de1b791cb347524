/** Reading a local file for a discovery: bounded by max_bytes, .gz decompressed. */
import { BodyTooLarge, CorruptGzip, readBody } from "../util/body.ts";
import { DiscoveryError } from "./_http.ts";

/** The bytes of the file at `path`, at most `maxBytes`; a DiscoveryError names the file. */
export async function readLocalFile(path: string, maxBytes: number): Promise<Uint8Array> {
  try {
    if ((await Deno.stat(path)).size > maxBytes) throw new BodyTooLarge(maxBytes, false);
    const file = await Deno.open(path);
    return await readBody(file.readable, { maxBytes });
  } catch (err) {
    const reason = err instanceof BodyTooLarge
      ? err.message.replace(/(\d+) bytes$/, "max_bytes ($1 bytes)")
      : err instanceof CorruptGzip
      ? `cannot decompress gzip: ${err.message}`
      : (err as Error).message;
    throw new DiscoveryError(`Cannot read "${path}": ${reason}`, { cause: err });
  }
}
