import assert from "node:assert/strict";
import { BodyTooLarge, digestBody, readBody } from "../../src/util/body.ts";
import { digest } from "../../src/util/digest.ts";

/** `bytes` as a stream of chunks of at most `size` bytes. */
function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at += size));
    },
  });
}

async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const TEXT = new TextEncoder().encode("line one\nline two, ü\n".repeat(5000));

Deno.test("digestBody() is digest() of what readBody() reads: plain, gzip, two gzip members, empty", async () => {
  const members = new Uint8Array([
    ...await gzip(TEXT.subarray(0, 1000)),
    ...await gzip(TEXT.subarray(1000)),
  ]);
  for (
    const [label, body] of [["plain", TEXT], ["gzip", await gzip(TEXT)], [
      "members",
      members,
    ]] as const
  ) {
    for (const size of [1, 7, 65_536]) {
      const bytes = await readBody(chunked(body, size), { maxBytes: 1 << 20 });
      assert.deepEqual(bytes, TEXT, `${label}, chunks of ${size}`);
      assert.equal(await digestBody(chunked(body, size), { maxBytes: 1 << 20 }), digest(TEXT));
    }
  }
  assert.equal(await digestBody(chunked(new Uint8Array(), 1), { maxBytes: 10 }), digest(""));
  assert.equal(await digestBody(null, { maxBytes: 10 }), digest(""));
});

Deno.test("digestBody() refuses a body past max_bytes, before or after decompression", async () => {
  const max = TEXT.length - 1;
  await assert.rejects(
    () => digestBody(chunked(TEXT, 4096), { maxBytes: max }),
    (err: Error) => err instanceof BodyTooLarge && !err.decompressed,
  );
  await assert.rejects(
    () => digestBody(chunked(TEXT.subarray(0, 1), 1), { maxBytes: 0 }),
    (err: Error) => err instanceof BodyTooLarge && !err.decompressed,
  );
  const packed = await gzip(TEXT);
  assert.ok(packed.length < max);
  await assert.rejects(
    () => digestBody(chunked(packed, 512), { maxBytes: max }),
    (err: Error) => err instanceof BodyTooLarge && err.decompressed,
  );
});
