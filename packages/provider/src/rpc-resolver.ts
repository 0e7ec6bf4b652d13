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

	/** Resolves one flag. Throws only OpenFeature errors. */
	async resolve<T extends FlagValue>(
		type: FlagValueType,
		flagKey: string,
		defaultValue: T,
		context: EvaluationContext,
	): Promise<ResolutionDetails<T>> {
		const cached = this.cache.get<T>(type, flagKey);
		if (cached !== undefined) return cached;
		const struct = contextToStruct(context);
		const generation = this.cache.generation;
		// The generation is part of the key: a caller arriving after an invalidation never joins an older call.
		const key = `${generation}\u0000${type}\u0000${flagKey}\u0000${stableStringify(struct)}`;
		let call = this.inflight.get(key);
		if (call === undefined) {
			call = this.fetch(type, flagKey, struct, generation);
			this.inflight.set(key, call);
			const forget = (): void => {
				this.inflight.delete(key);
			};
			call.then(forget, forget);
		}
		const raw = await call;
		const flagMetadata = structToFlagMetadata(raw.metadata);
		if (!raw.hasValue) {
			return { value: defaultValue, reason: raw.reason, flagMetadata };
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

	private async fetch(
		type: FlagValueType,
		flagKey: string,
		context: JsonObject,
		generation: number,
	): Promise<RawResolution> {
		let raw: RawResolution;
		try {
			raw = await this.client.resolve(type, flagKey, context);
		} catch (err: unknown) {
			throw mapEvaluationError(err);
		}
		if (raw.hasValue && raw.reason === "STATIC") {
			const value =
				type === "object" ? structToPlain(raw.value as JsonObject) : raw.value;
			this.cache.set(
				type,
				flagKey,
				{
					value: value as JsonValue,
					reason: raw.reason,
					flagMetadata: structToFlagMetadata(raw.metadata),
					...(raw.variant === undefined ? {} : { variant: raw.variant }),
				},
				generation,
			);
		}
		return raw;
	}
}
