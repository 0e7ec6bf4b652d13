/**
 * Whether a flag's answer can change with time alone: its rule reads `$flagd.timestamp`, or the whole injected
 * `$flagd` object (which holds the timestamp). Answers computed from such a flag are never cached (OFREP's
 * answers, the unary evaluation answers).
 */
import type { CompiledFlag } from "@flagd-ts/evaluator";

/** See the file comment. */
export function readsClock(flag: CompiledFlag): boolean {
	const targeting = flag.targeting;
	return (
		targeting !== undefined &&
		(targeting.usesTimestamp || targeting.contextMode === "injected")
	);
}
