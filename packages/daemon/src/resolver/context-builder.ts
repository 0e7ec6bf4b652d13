/**
 * Builds the evaluation context of one request with flagd's precedence (ADR static-and-dynamic-context):
 * header-mapped values (`-H Header=contextKey`) over static values (`-X key=value`) over the request body.
 */
import {
	type JsonObject,
	sanitizeContext,
	setOwnProperty,
} from "@flagd-ts/evaluator";

/** Reads one request header by lower-case name. */
export type HeaderReader = (name: string) => string | undefined;

export interface ContextBuilderOptions {
	readonly staticContext: Readonly<Record<string, string>>;
	/** Header name (any case) → context key. */
	readonly headerContext: Readonly<Record<string, string>>;
}

/** See the file comment. Precomputes the mappings so the request path only copies what it must. */
export class ContextBuilder {
	readonly #static: readonly (readonly [string, string])[];
	readonly #headers: readonly (readonly [string, string])[];

	constructor(options: ContextBuilderOptions) {
		// Keys are ordinary strings (`__proto__` included): they are set as own properties, never assigned.
		this.#static = Object.entries(options.staticContext);
		this.#headers = Object.entries(options.headerContext).map(
			([header, key]) => [header.toLowerCase(), key] as const,
		);
	}

	/** Lower-case names of the headers whose values enter the context (cache keys of answers include them). */
	get headerNames(): readonly string[] {
		return this.#headers.map(([header]) => header);
	}

	/** The static context as a JSON object (sync_context, GetMetadata). */
	staticContext(): JsonObject {
		const out: JsonObject = {};
		for (const [key, value] of this.#static) setOwnProperty(out, key, value);
		return out;
	}

	/** Request context: body (sanitised: null-prototype copies), then static values, then mapped headers. */
	build(body: unknown, readHeader: HeaderReader): JsonObject {
		const context = sanitizeContext(body ?? {});
		for (const [key, value] of this.#static)
			setOwnProperty(context, key, value);
		for (const [header, key] of this.#headers) {
			const value = readHeader(header);
			if (value !== undefined) setOwnProperty(context, key, value);
		}
		return context;
	}
}
