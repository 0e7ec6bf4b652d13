/**
 * The one evaluation path all APIs share: selector (cached) → view → Map lookup → evaluator, plus metrics.
 * Wire rendering differs per API and lives with each service.
 */
import {
	type EvaluationResult,
	evaluateFlag,
	type FlagMetadata,
	flagNotFound,
	type JsonObject,
	type RequestedType,
} from "@flagd-ts/evaluator";
import type { FlagStore } from "../store/flag-store.js";
import type { FlagView } from "../store/flag-view.js";
import type { Selector } from "../store/selector.js";
import type { SelectorCache } from "../store/selector-cache.js";
import type { StoredFlag } from "../store/stored-flag.js";
import type { DaemonMetrics } from "../telemetry/daemon-metrics.js";
import type { ContextBuilder } from "./context-builder.js";
import { readsClock } from "./reads-clock.js";

export interface FlagResolverOptions {
	readonly store: FlagStore;
	readonly selectors: SelectorCache;
	readonly contexts: ContextBuilder;
	readonly metrics: DaemonMetrics;
	/** Clock for `$flagd.timestamp`, in seconds; injectable for tests. @default Date.now()/1000 */
	readonly nowSeconds?: () => number;
}

/** See the file comment. */
export class FlagResolver {
	readonly store: FlagStore;
	readonly selectors: SelectorCache;
	readonly contexts: ContextBuilder;
	readonly metrics: DaemonMetrics;
	readonly #nowSeconds: (() => number) | undefined;
	#clockReads = 0;

	constructor(options: FlagResolverOptions) {
		this.store = options.store;
		this.selectors = options.selectors;
		this.contexts = options.contexts;
		this.metrics = options.metrics;
		this.#nowSeconds = options.nowSeconds;
	}

	/**
	 * How many evaluations so far were of flags that read the clock (reads-clock.ts): an answer cache compares it
	 * before and after computing an answer, and does not keep an answer whose value may change with time alone.
	 */
	get clockReads(): number {
		return this.#clockReads;
	}

	/** Parses (cached) a `Flagd-Selector` value; throws DaemonError SELECTOR_INVALID. */
	selector(header: string | null | undefined): Selector {
		return this.selectors.get(header);
	}

	view(selector: Selector): FlagView {
		return this.store.view(selector);
	}

	/** Evaluates one flag by key in a selector's view; a missing flag is a FLAG_NOT_FOUND result. */
	resolve(
		key: string,
		type: RequestedType,
		selector: Selector,
		context: JsonObject,
	): EvaluationResult {
		const flag = this.store.view(selector).byKey.get(key);
		if (flag === undefined) {
			const result = flagNotFound(key);
			this.metrics.recordEvaluation(
				key,
				result.reason,
				undefined,
				result.errorCode,
			);
			return result;
		}
		return this.evaluate(flag, type, context);
	}

	/** Evaluates one stored flag and records metrics. */
	evaluate(
		flag: StoredFlag,
		type: RequestedType,
		context: JsonObject,
	): EvaluationResult {
		const options =
			this.#nowSeconds === undefined
				? undefined
				: { nowSeconds: this.#nowSeconds() };
		if (readsClock(flag.compiled)) this.#clockReads++;
		const result = evaluateFlag(flag.compiled, type, context, options);
		this.metrics.recordEvaluation(
			flag.key,
			result.reason,
			result.variant,
			result.errorCode,
		);
		return result;
	}
}

/**
 * Response metadata: the selector's reflection (`flagSetId` / `source`) overlaid by the flag's metadata, as flagd
 * renders it. Without a selector the flag's metadata object is returned as is (no allocation).
 */
export function responseMetadata(
	selector: Selector,
	metadata: FlagMetadata,
): FlagMetadata {
	if (selector.kind === "all") return metadata;
	return { ...selector.reflection, ...metadata };
}

/** A request's selector and context from its body context and headers (Connect `Headers`). */
export function readRequest(
	resolver: FlagResolver,
	bodyContext: unknown,
	headers: Headers,
): { selector: Selector; context: JsonObject } {
	const selector = resolver.selector(headers.get("flagd-selector"));
	const context = resolver.contexts.build(
		bodyContext,
		(name) => headers.get(name) ?? undefined,
	);
	return { selector, context };
}
