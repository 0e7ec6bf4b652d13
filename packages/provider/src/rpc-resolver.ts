import type { JsonObject } from "@bufbuild/protobuf";
import {
	contextToStruct,
	type FlagValueType,
	mapEvaluationError,
	type ResultCache,
	stableStringify,
	structToFlagMetadata,
	structToPlain,
} from "@flagd-ts/provider-core";
import type {
	EvaluationContext,
	FlagValue,
	JsonValue,
	ResolutionDetails,
} from "@openfeature/server-sdk";
import type { EvaluationClient, RawResolution } from "./evaluation-client.js";

/**
 * Per-flag evaluation over RPC: answers STATIC results from the cache, otherwise calls flagd once per distinct
 * (type, flag, context) in flight (concurrent identical misses share one call), maps transport errors through
 * provider-core's table, and applies flagd's "use the code default" signal.
 */
export class RpcResolver {
	private readonly client: EvaluationClient;
	private readonly cache: ResultCache;
	private readonly inflight = new Map<string, Promise<RawResolution>>();

	constructor(options: { client: EvaluationClient; cache: ResultCache }) {
		this.client = options.client;
		this.cache = options.cache;
	}

	/** Number of calls currently in flight (after coalescing). */
	get inflightCount(): number {
		return this.inflight.size;
	}

	/**
	 * Resolves one flag; rejects only with OpenFeature errors. Written with `then` rather than `async`: each
	 * async layer costs microtask hops on every uncached evaluation.
	 */
	resolve<T extends FlagValue>(
		type: FlagValueType,
		flagKey: string,
		defaultValue: T,
		context: EvaluationContext,
	): Promise<ResolutionDetails<T>> {
		const cached = this.cache.get<T>(type, flagKey);
		if (cached !== undefined) return Promise.resolve(cached);
		let struct: JsonObject;
		try {
			struct = contextToStruct(context);
		} catch (err: unknown) {
			return Promise.reject(err);
		}
		const generation = this.cache.generation;
		const contextKey = stableStringify(struct);
		// The generation is part of the key: a caller arriving after an invalidation never joins an older call.
		const key = `${generation}\u0000${type}\u0000${flagKey}\u0000${contextKey}`;
		let call = this.inflight.get(key);
		if (call === undefined) {
			call = this.fetch(type, flagKey, struct, contextKey, generation);
			this.inflight.set(key, call);
			const forget = (): void => {
				this.inflight.delete(key);
			};
			call.then(forget, forget);
		}
		return call.then((raw) => toDetails(type, raw, defaultValue));
	}

	private fetch(
		type: FlagValueType,
		flagKey: string,
		context: JsonObject,
		contextKey: string,
		generation: number,
	): Promise<RawResolution> {
		return this.client.resolve(type, flagKey, context, contextKey).then(
			(raw) => {
				if (raw.hasValue && raw.reason === "STATIC") {
					const details = toDetails(type, raw, undefined);
					this.cache.set(
						type,
						flagKey,
						details as ResolutionDetails<JsonValue>,
						generation,
					);
				}
				return raw;
			},
			(err: unknown) => {
				throw mapEvaluationError(err);
			},
		);
	}
}

/** The OpenFeature answer for one raw resolution; flagd's "use the code default" yields `defaultValue`. */
function toDetails<T extends FlagValue>(
	type: FlagValueType,
	raw: RawResolution,
	defaultValue: T | undefined,
): ResolutionDetails<T> {
	const flagMetadata = structToFlagMetadata(raw.metadata);
	if (!raw.hasValue) {
		return { value: defaultValue as T, reason: raw.reason, flagMetadata };
	}
	const value =
		type === "object" ? structToPlain(raw.value as JsonObject) : raw.value;
	return {
		value: value as T,
		reason: raw.reason,
		flagMetadata,
		...(raw.variant === undefined ? {} : { variant: raw.variant }),
	};
}
