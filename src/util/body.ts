/**
 * Reading a body (an HTTP response or a file) within a byte bound. A body that starts with the
 * gzip magic number is decompressed as it arrives, every member of it, so a small body that
 * expands to gigabytes is stopped at the bound and never held in memory.
 */
import type { Gunzip } from "node:zlib";

/** Thrown when a body, or what it decompresses to, is larger than the bound. */
export class BodyTooLarge extends Error {
  override name = "BodyTooLarge";
  constructor(readonly maxBytes: number, readonly decompressed: boolean) {
    super(
      decompressed
        ? `it decompresses to more than ${maxBytes} bytes`
        : `it is larger than ${maxBytes} bytes`,
    );
  }
}

/** Thrown when a body that starts like gzip cannot be decompressed. */
export class CorruptGzip extends Error {
  override name = "CorruptGzip";
}

/** Options of `readBody()`. */
export interface ReadBodyOptions {
  /** Largest body accepted, before and after decompression. */
  maxBytes: number;
}

/** Reads `stream` in full, gunzipped when it is gzip; throws BodyTooLarge past `maxBytes`. */
export async function readBody(
  stream: ReadableStream<Uint8Array> | null,
  options: ReadBodyOptions,
): Promise<Uint8Array> {
  if (stream === null) return new Uint8Array();
  const reader = stream.getReader();
  const input = new Collector(options.maxBytes, false);
  try {
    while (input.size < 2) {
      const { done, value } = await reader.read();
      if (done) return input.bytes();
      input.add(value);
    }
    const head = input.bytes();
    if (head[0] !== 0x1f || head[1] !== 0x8b) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return input.bytes();
        input.add(value);
      }
    }
    return await gunzipBounded(head, reader, options.maxBytes);
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  } finally {
    reader.releaseLock();
  }
}

/** Chunks kept until a bound is passed. */
class Collector {
  #chunks: Uint8Array[] = [];
  size = 0;
  constructor(readonly max: number, readonly decompressed: boolean) {}

  add(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.size > this.max) throw new BodyTooLarge(this.max, this.decompressed);
    this.#chunks.push(chunk);
  }

  bytes(): Uint8Array {
    if (this.#chunks.length === 1) return this.#chunks[0];
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    this.#chunks = [out];
    return out;
  }
}

async function gunzipBounded(
  head: Uint8Array,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  max: number,
): Promise<Uint8Array> {
  // Loaded on the first gzip body: node:zlib takes about 20 ms to load.
  const { createGunzip } = await import("node:zlib");
  const gunzip = createGunzip();
  const output = new Collector(max, true);
  let inputError: unknown;
  const pumping = pump(head, reader, gunzip, max).catch((err) => {
    inputError = err;
    gunzip.destroy(err);
  });
  try {
    for await (const chunk of gunzip) output.add(chunk as Uint8Array);
  } catch (err) {
    gunzip.destroy();
    // A read still waiting for the network ends at once, so the pump can stop.
    await reader.cancel().catch(() => {});
    if (err instanceof BodyTooLarge || inputError !== undefined) throw inputError ?? err;
    throw new CorruptGzip((err as Error).message, { cause: err });
  } finally {
    await pumping;
  }
  return output.bytes();
}

/** Writes the compressed input into `gunzip`, waiting whenever it asks to. */
async function pump(
  head: Uint8Array,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  gunzip: Gunzip,
  max: number,
): Promise<void> {
  let size = head.length;
  let chunk: Uint8Array | undefined = head;
  while (chunk !== undefined && !gunzip.destroyed) {
    if (!gunzip.write(chunk)) await drained(gunzip);
    const next = await reader.read();
    chunk = next.done ? undefined : next.value;
    size += chunk?.length ?? 0;
    if (size > max) throw new BodyTooLarge(max, false);
  }
  if (!gunzip.destroyed) gunzip.end();
}

function drained(gunzip: Gunzip): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      gunzip.off("drain", done);
      gunzip.off("close", done);
      resolve();
    };
    gunzip.on("drain", done);
    gunzip.on("close", done);
  });
}
