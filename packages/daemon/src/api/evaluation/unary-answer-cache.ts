/**
 * The evaluation port's answer cache for the direct unary paths (transport/direct-path/direct-answer-cache.ts):
 * ResolveBoolean/…/ResolveAll answers encoded once and replayed while the flags are unchanged, as OFREP's answers
 * are (api/ofrep/ofrep-answers.ts, the same {@link AnswerCache}).
 *
 * An answer depends on the flags (store version), the method, protocol and encoding (the `scope` the path gives),
 * the request body, the `Flagd-Selector` header and the header-mapped context values (`-H`); the static context
 * (`-X`) is fixed for the daemon's life. The key is exactly those. It also depends on the clock when an evaluated
 * flag reads `$flagd.timestamp` (or the whole `$flagd`): such answers are not kept. A replay counts the same
 * evaluations in the metrics as computing the answer again would.
 *
 * With request telemetry on (spans, debug request logs) the handler passes no cache: every call gets its own span
 * (parented by its `traceparent`), request id and log line from the implementation, so nothing is replayed.
 */

import type { FlagResolver } from "../../resolver/flag-resolver.js";
import type { EvaluationTally } from "../../telemetry/daemon-metrics.js";
import type {
	DirectAnswer,
	DirectAnswerCache,
	DirectAnswerLookup,
} from "../../transport/direct-path/direct-answer-cache.js";
import type { DirectRequest } from "../../transport/direct-path/direct-request.js";
import { AnswerCache, type AnswerCacheOptions } from "../answer-cache.js";

/** Requests with larger bodies are answered but not cached (their keys would crowd out the common ones). */
const MAX_CACHED_BODY_BYTES = 4 * 1024;
/** What a kept tally costs beside the answer's bytes (a reference in an array). */
const TALLY_BYTES = 8;

/** A kept answer; it is its own lookup result, so a hit allocates nothing. */
interface UnaryAnswer extends DirectAnswerLookup {
	readonly hit: DirectAnswer;
	readonly tallies: readonly EvaluationTally[];
	readonly bytes: number;
}

/** See the file comment. */
export class UnaryAnswerCache implements DirectAnswerCache {
	readonly #resolver: FlagResolver;
	readonly #contextHeaders: readonly string[];
	readonly #cache: AnswerCache<UnaryAnswer>;

	constructor(resolver: FlagResolver, options?: AnswerCacheOptions) {
		this.#resolver = resolver;
		this.#contextHeaders = resolver.contexts.headerNames;
		this.#cache = new AnswerCache<UnaryAnswer>(options);
	}

	/** How many answers are kept now. */
	get size(): number {
		return this.#cache.size;
	}

	open(
		req: DirectRequest,
		scope: string,
		body: Buffer,
	): DirectAnswerLookup | undefined {
		if (body.length > MAX_CACHED_BODY_BYTES) return undefined;
		const headers = req.headers;
		let key = `${scope}\u0000${headerValue(headers["flagd-selector"])}`;
		for (const name of this.#contextHeaders)
			key += `\u0000${headerValue(headers[name])}`;
		// latin1 maps every byte to one char: distinct bodies give distinct keys.
		key += `\u0000${body.toString("latin1")}`;
		const version = this.#resolver.store.version;
		const kept = this.#cache.get(version, key);
		if (kept !== undefined) {
			this.#resolver.metrics.replayEvaluations(kept.tallies);
			return kept;
		}
		return new Computation(this.#resolver, this.#cache, version, key);
	}
}

/** A request whose answer is computed here, and kept when it can be replayed. */
class Computation implements DirectAnswerLookup {
	readonly hit = undefined;
	#tallies: readonly EvaluationTally[] | undefined;

	constructor(
		private readonly resolver: FlagResolver,
		private readonly cache: AnswerCache<UnaryAnswer>,
		private readonly version: number,
		private readonly key: string,
	) {}

	run<T>(impl: () => T): T {
		const clockReads = this.resolver.clockReads;
		const { value, tallies } = this.resolver.metrics.captureEvaluations(impl);
		// An answer that read the clock, or one still to come, is not kept.
		if (this.resolver.clockReads === clockReads && !(value instanceof Promise))
			this.#tallies = tallies;
		return value;
	}

	keep(answer: DirectAnswer): void {
		const tallies = this.#tallies;
		if (tallies === undefined) return;
		this.cache.set(this.version, this.key, {
			hit: answer,
			run: runOnly,
			keep: keepNothing,
			tallies,
			bytes:
				answer.bytes.byteLength +
				(answer.text?.length ?? 0) * 2 +
				tallies.length * TALLY_BYTES,
		});
	}
}

/** A header's value in a key: absent and empty differ, repeated values as Headers joins them. */
function headerValue(value: string | string[] | undefined): string {
	if (value === undefined) return "\u0001";
	return Array.isArray(value) ? value.join(", ") : value;
}

const runOnly = <T>(impl: () => T): T => impl();
const keepNothing = (): void => {};
