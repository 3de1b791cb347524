/**
 * Reading a body (an HTTP response or a file) within a byte bound. A body that starts with the
 * gzip magic number is decompressed as it arrives, every member of it, so a small body that
 * expands to gigabytes is stopped at the bound and never held in memory.
 */
import type { Gunzip } from "node:zlib";
import { Digester } from "./digest.ts";

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
export function readBody(
  stream: ReadableStream<Uint8Array> | null,
  options: ReadBodyOptions,
): Promise<Uint8Array> {
  return consumeBody(stream, options.maxBytes, new Collector());
}

/**
 * digest() of what readBody() would return, read a chunk at a time: a large body is never held
 * in memory. Throws as readBody() does.
 */
export function digestBody(
  stream: ReadableStream<Uint8Array> | null,
  options: ReadBodyOptions,
): Promise<string> {
  return consumeBody(stream, options.maxBytes, new Digesting());
}

/** Where the bytes of a body go as they arrive, gunzipped or not; `end()` gives the result. */
interface Sink<T> {
  add(chunk: Uint8Array): void;
  end(): T;
}

/** Hands `stream`'s bytes to `sink`, gunzipped when it is gzip, within `maxBytes` both ways. */
async function consumeBody<T>(
  stream: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  sink: Sink<T>,
): Promise<T> {
  if (stream === null) return sink.end();
  const reader = stream.getReader();
  const head = new Collector();
  try {
    // The first two bytes tell gzip from anything else.
    while (head.size < 2) {
      const { done, value } = await reader.read();
      if (done) break;
      head.add(value);
    }
    if (head.size > maxBytes) throw new BodyTooLarge(maxBytes, false);
    const bytes = head.end();
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      return await gunzipBounded(bytes, reader, maxBytes, sink);
    }
    const plain = new Bounded(sink, maxBytes, false);
    plain.add(bytes);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return plain.end();
      plain.add(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  } finally {
    reader.releaseLock();
  }
}

/** A sink that refuses more than `max` bytes, as BodyTooLarge. */
class Bounded<T> implements Sink<T> {
  #size = 0;
  constructor(
    readonly sink: Sink<T>,
    readonly max: number,
    readonly decompressed: boolean,
  ) {}

  add(chunk: Uint8Array): void {
    this.#size += chunk.length;
    if (this.#size > this.max) throw new BodyTooLarge(this.max, this.decompressed);
    this.sink.add(chunk);
  }

  end(): T {
    return this.sink.end();
  }
}

/** Chunks kept, then joined. */
class Collector implements Sink<Uint8Array> {
  #chunks: Uint8Array[] = [];
  size = 0;

  add(chunk: Uint8Array): void {
    this.size += chunk.length;
    this.#chunks.push(chunk);
  }

  end(): Uint8Array {
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

/** Chunks digested as they come. */
class Digesting implements Sink<string> {
  readonly #digester = new Digester();

  add(chunk: Uint8Array): void {
    this.#digester.update(chunk);
  }

  end(): string {
    return this.#digester.digest();
  }
}

async function gunzipBounded<T>(
  head: Uint8Array,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  max: number,
  sink: Sink<T>,
): Promise<T> {
  // Loaded on the first gzip body: node:zlib takes about 20 ms to load.
  const { createGunzip } = await import("node:zlib");
  const gunzip = createGunzip();
  const output = new Bounded(sink, max, true);
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
  return output.end();
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
