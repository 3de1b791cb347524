/** Short stable digests of text and bytes. */
import { hash } from "node:crypto";

/** The first 16 hex digits of the SHA-256 of `data`: a stable name that reveals nothing of it. */
export function digest(data: string | Uint8Array): string {
  return hash("sha256", data, "hex").slice(0, 16);
}
