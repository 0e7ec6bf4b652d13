/**
 * The `flagd` command's V8 young-generation setting (a product decision, measured in docs/performance.md).
 *
 * V8 starts the young generation at 1 MiB per semi-space and doubles it, up to 16 MiB, whenever much survives a
 * scavenge. Loading a flag document is exactly that (every parsed and compiled definition survives), so a daemon
 * that loaded 10,000 flags keeps 32 MiB of young generation for the rest of its life, and large answers
 * (ResolveAll) leave their garbage in it, off-heap buffers included, until it fills. Keeping the semi-spaces at
 * their initial size costs the load more scavenges and saves ~25-50 MiB of RSS per daemon; request handling
 * allocates short-lived objects that a small young generation collects just as well (throughput measured in
 * the daemon-throughput benchmark).
 *
 * `--max-semi-space-size` cannot change once the heap exists, but the growth factor is read each time V8 grows
 * the semi-spaces, so a growth factor of 1 set at start keeps them at their initial size. An operator who sets
 * any young-generation flag (`node --max-semi-space-size=16 flagd.mjs`, NODE_OPTIONS) keeps V8's behaviour with
 * that flag. Only the CLI calls this: startDaemon() embedded in an application leaves the process's V8 alone.
 *
 * Under sustained request load the cap costs more than it saves: HTTP/2 allocates ~15 KB per call, so 1 MiB
 * semi-spaces scavenge every few hundred requests (~9 µs per request, a fifth of the daemon's CPU per call).
 * young-generation-governor.ts lifts the cap while the request rate is high and puts it back when it falls.
 */
import { setFlagsFromString } from "node:v8";

/** Node/V8 flags that tune the young generation: when one is given, the operator decides. */
const YOUNG_GENERATION_FLAGS =
	/(?:^|\s)--(?:max-semi-space-size|min-semi-space-size|semi-space-growth-factor|max_semi_space_size|min_semi_space_size|semi_space_growth_factor|optimize-for-size|optimize_for_size)(?:[=\s]|$)/;

/** The V8 flag applied when the operator gave none (see the file comment). */
export const YOUNG_GENERATION_FLAG = "--semi-space-growth-factor=1";

/** V8's own growth factor, set back while the cap is lifted (young-generation-governor.ts). */
export const YOUNG_GENERATION_LIFTED_FLAG = "--semi-space-growth-factor=2";

let cappedHere = false;

/** Whether this process applied YOUNG_GENERATION_FLAG (the operator gave no young-generation flag). */
export function isYoungGenerationCapped(): boolean {
	return cappedHere;
}

/**
 * Applies YOUNG_GENERATION_FLAG unless `execArgv` or `nodeOptions` already tune the young generation. Returns
 * whether it did. Call before the heap grows (first thing at start).
 */
export function capYoungGeneration(
	execArgv: readonly string[] = process.execArgv,
	nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): boolean {
	const given = `${execArgv.join(" ")} ${nodeOptions ?? ""}`;
	if (YOUNG_GENERATION_FLAGS.test(given)) return false;
	setFlagsFromString(YOUNG_GENERATION_FLAG);
	cappedHere = true;
	return true;
}
