/** Short stable digests of text and bytes. */
import { createHash, hash } from "node:crypto";

/** The first 16 hex digits of the SHA-256 of `data`: a stable name that reveals nothing of it. */
export function digest(data: string | Uint8Array): string {
  return hash("sha256", data, "hex").slice(0, 16);
}

/** digest() of bytes given a chunk at a time, so that they are never held whole. */
export class Digester {
  readonly #hash = createHash("sha256");

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }

  /** digest() of every chunk given, in order. */
  digest(): string {
    return this.#hash.digest("hex").slice(0, 16);
  }
}
