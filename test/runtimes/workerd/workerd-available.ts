/**
 * Whether miniflare can start workerd here. npm installs workerd's binary from the platform package
 * `@cloudflare/workerd-<os>-<arch>` (an optional dependency); a platform without one cannot run these tests, and
 * they are then reported as skipped with this reason instead of passing silently.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

export function workerdUnavailableReason(): string | undefined {
	try {
		const requireHere = createRequire(__filename);
		const { default: binary } = requireHere("workerd") as { default: string };
		return existsSync(binary)
			? undefined
			: `the workerd binary ${binary} is missing (no @cloudflare/workerd-${process.platform}-${process.arch} package)`;
	} catch (err: unknown) {
		return `the workerd package does not load on ${process.platform}-${process.arch}: ${err instanceof Error ? err.message : String(err)}`;
	}
}
