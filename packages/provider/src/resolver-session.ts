import type {
	EventStreamSupervisor,
	FlagValueType,
} from "@flagd-ts/provider-core";
import type {
	EvaluationContext,
	FlagValue,
	ResolutionDetails,
} from "@openfeature/server-sdk";

/** Resolves one flag evaluation; rejects only with OpenFeature errors. */
export interface FlagResolver {
	resolve<T extends FlagValue>(
		type: FlagValueType,
		flagKey: string,
		defaultValue: T,
		context: EvaluationContext,
	): Promise<ResolutionDetails<T>>;
}

/** Everything a provider holds from initialize() to onClose(), whatever the resolver. */
export interface ResolverSession {
	readonly supervisor: EventStreamSupervisor;
	readonly resolver: FlagResolver;
	/** Where flags come from, for log messages. */
	readonly description: string;
	close(): void;
}
