import {
	type EvaluationResult,
	evaluateFlag,
	type JsonObject,
} from "@flagd-ts/evaluator";
import { contextToStruct, type FlagValueType } from "@flagd-ts/provider-core";
import {
	type EvaluationContext,
	FlagNotFoundError,
	type FlagValue,
	GeneralError,
	ParseError,
	ProviderNotReadyError,
	type ResolutionDetails,
	TypeMismatchError,
} from "@openfeature/server-sdk";
import type { LocalFlagStore } from "./local-flag-store.js";

/**
 * Evaluation for the in-process and file resolvers: the flag from the local store, evaluated by
 * `@flagd-ts/evaluator` exactly as the daemon evaluates it. The caller's context goes through the same conversion
 * the RPC resolver applies before sending it (so values such as dates compare alike), then the enrichment from the
 * daemon's `sync_context` is laid over it, as the daemon lays its static context over request contexts. Errors are
 * the OpenFeature errors the RPC resolver raises for the same outcome.
 */
export class LocalResolver {
	private readonly store: LocalFlagStore;
	private enrichment: JsonObject | undefined;

	constructor(store: LocalFlagStore) {
		this.store = store;
	}

	/** Sets the context laid over every evaluation's context (`undefined` or empty: none). */
	setEnrichment(context: JsonObject | undefined): void {
		this.enrichment =
			context === undefined || Object.keys(context).length === 0
				? undefined
				: context;
	}

	resolve<T extends FlagValue>(
		type: FlagValueType,
		flagKey: string,
		defaultValue: T,
		context: EvaluationContext,
	): Promise<ResolutionDetails<T>> {
		try {
			return Promise.resolve(
				this.resolveNow(type, flagKey, defaultValue, context),
			);
		} catch (error: unknown) {
			return Promise.reject(error);
		}
	}

	/** Synchronous core of {@link resolve}; throws OpenFeature errors. */
	resolveNow<T extends FlagValue>(
		type: FlagValueType,
		flagKey: string,
		defaultValue: T,
		context: EvaluationContext,
	): ResolutionDetails<T> {
		const flag = this.store.get(flagKey);
		if (flag === undefined) {
			if (!this.store.loaded)
				throw new ProviderNotReadyError("flagd provider has no flags yet");
			throw new FlagNotFoundError(`flag "${flagKey}" not found`);
		}
		// Converted even for flags without targeting, so a context the RPC resolver refuses (a non-string
		// targetingKey, a cycle, a non-finite number) is refused here too.
		const data = this.contextFor(context);
		return toDetails(evaluateFlag(flag, type, data), defaultValue);
	}

	private contextFor(context: EvaluationContext): JsonObject {
		const converted = contextToStruct(context);
		const enrichment = this.enrichment;
		if (enrichment === undefined) return converted;
		for (const key of Object.keys(enrichment)) {
			Object.defineProperty(converted, key, {
				value: enrichment[key],
				enumerable: true,
				writable: true,
				configurable: true,
			});
		}
		return converted;
	}
}

function toDetails<T extends FlagValue>(
	result: EvaluationResult,
	defaultValue: T,
): ResolutionDetails<T> {
	if (result.reason === "ERROR") throw toError(result);
	const flagMetadata = result.metadata;
	if (result.value === undefined) {
		return { value: defaultValue, reason: result.reason, flagMetadata };
	}
	const value =
		result.value !== null && typeof result.value === "object"
			? structuredClone(result.value) // the store's values are frozen and shared
			: result.value;
	return {
		value: value as T,
		reason: result.reason,
		flagMetadata,
		...(result.variant === undefined ? {} : { variant: result.variant }),
	};
}

function toError(result: EvaluationResult): Error {
	const message = result.errorMessage ?? `flag "${result.flagKey}" failed`;
	switch (result.errorCode) {
		case "FLAG_NOT_FOUND":
			return new FlagNotFoundError(message);
		case "TYPE_MISMATCH":
			return new TypeMismatchError(message);
		case "PARSE_ERROR":
			return new ParseError(message);
		default:
			return new GeneralError(message);
	}
}
