/** Content fingerprint used for change detection: SHA-256, hex. Cheap next to parsing, collision-safe in practice. */
import { createHash } from "node:crypto";

export function contentHash(content: string | Uint8Array): string {
	return createHash("sha256").update(content).digest("hex");
}
