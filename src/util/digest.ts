/** Short stable digests of text and bytes. */
import { createHash } from "node:crypto";

/** The first 16 hex digits of the SHA-256 of `data`: a stable name that reveals nothing of it. */
export function digest(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex").slice(0, 16);
}
