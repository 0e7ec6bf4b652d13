/**
 * Minimal OpenFeature providers over the daemon's other two evaluation APIs, so the testbed's evaluation scenarios
 * can run through OFREP and through flagd.evaluation.v1 with the same step definitions as the real provider (which
 * speaks v2). They do only what a client of those APIs must do: send the context, map errors to OpenFeature
 * errors, check the type (OFREP is untyped), and use the caller's default where the daemon signals "code default"
 * (OFREP: no `value`; v1: empty variant with reason DEFAULT or DISABLED, as the flagd JS providers do). No cache.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Service as EvaluationV1 } from "@flagd-ts/protocol/evaluation-v1";
import {
	type EvaluationContext,
	FlagNotFoundError,
	type FlagValue,
	GeneralError,
	type JsonValue,
	ParseError,
	type Provider,
	type ResolutionDetails,
	TypeMismatchError,
} from "@openfeature/server-sdk";

type ValueType = "boolean" | "string" | "number" | "object";

function typeOf(value: unknown): ValueType | "other" {
	if (typeof value === "boolean") return "boolean";
	if (typeof value === "string") return "string";
	if (typeof value === "number") return "number";
	if (typeof value === "object" && value !== null) return "object";
	return "other";
}

function contextJson(context: EvaluationContext): Record<string, JsonValue> {
	return JSON.parse(JSON.stringify(context)) as Record<string, JsonValue>;
}

/** Base: one `resolve` per API; the four typed methods delegate to it. */
abstract class ApiTestProvider implements Provider {
	abstract readonly metadata: { readonly name: string };
	readonly runsOn = "server" as const;

	protected abstract resolve<T extends FlagValue>(
		type: ValueType,
		flagKey: string,
		defaultValue: T,
		context: EvaluationContext,
	): Promise<ResolutionDetails<T>>;

	resolveBooleanEvaluation(key: string, def: boolean, ctx: EvaluationContext) {
		return this.resolve("boolean", key, def, ctx);
	}
	resolveStringEvaluation(key: string, def: string, ctx: EvaluationContext) {
		return this.resolve("string", key, def, ctx);
	}
	resolveNumberEvaluation(key: string, def: number, ctx: EvaluationContext) {
		return this.resolve("number", key, def, ctx);
	}
	resolveObjectEvaluation<T extends JsonValue>(
		key: string,
		def: T,
		ctx: EvaluationContext,
	) {
		return this.resolve("object", key, def, ctx);
	}
}

/** OFREP single-flag evaluation with plain fetch (`POST /ofrep/v1/evaluate/flags/{key}`). */
export class OfrepTestProvider extends ApiTestProvider {
	readonly metadata = { name: "ofrep-test" } as const;
	readonly #baseUrl: string;
	readonly #selector: string | undefined;

	constructor(options: { baseUrl: string; selector?: string | undefined }) {
		super();
		this.#baseUrl = options.baseUrl;
		this.#selector = options.selector;
	}

	protected async resolve<T extends FlagValue>(
		type: ValueType,
		flagKey: string,
		defaultValue: T,
		context: EvaluationContext,
	): Promise<ResolutionDetails<T>> {
		const headers: Record<string, string> = {
			"content-type": "application/json",
		};
		if (this.#selector !== undefined)
			headers["flagd-selector"] = this.#selector;
		const response = await fetch(
			`${this.#baseUrl}/ofrep/v1/evaluate/flags/${encodeURIComponent(flagKey)}`,
			{
				method: "POST",
				headers,
				body: JSON.stringify({ context: contextJson(context) }),
			},
		);
		const body = (await response.json()) as Record<string, unknown>;
		if (response.status !== 200) {
			const details = String(body.errorDetails ?? `HTTP ${response.status}`);
			switch (body.errorCode) {
				case "FLAG_NOT_FOUND":
					throw new FlagNotFoundError(details);
				case "PARSE_ERROR":
					throw new ParseError(details);
				default:
					throw new GeneralError(`${String(body.errorCode)}: ${details}`);
			}
		}
		const metadata = (body.metadata ??
			{}) as ResolutionDetails<T>["flagMetadata"];
		const reason = typeof body.reason === "string" ? body.reason : undefined;
		if (!("value" in body))
			return { value: defaultValue, reason, flagMetadata: metadata };
		if (typeOf(body.value) !== type) {
			throw new TypeMismatchError(
				`flag ${flagKey} is ${typeOf(body.value)}, requested ${type}`,
			);
		}
		return {
			value: body.value as T,
			variant: typeof body.variant === "string" ? body.variant : undefined,
			reason,
			flagMetadata: metadata,
		};
	}
}

/** flagd.evaluation.v1 over Connect JSON (HTTP/1.1), one typed Resolve* call per evaluation. */
export class EvaluationV1TestProvider extends ApiTestProvider {
	readonly metadata = { name: "evaluation-v1-test" } as const;
	readonly #client;
	readonly #selector: string | undefined;

	constructor(options: { baseUrl: string; selector?: string | undefined }) {
		super();
		this.#client = createClient(
			EvaluationV1,
			createConnectTransport({
				baseUrl: options.baseUrl,
				httpVersion: "1.1",
				useBinaryFormat: false,
			}),
		);
		this.#selector = options.selector;
	}

	protected async resolve<T extends FlagValue>(
		type: ValueType,
		flagKey: string,
		defaultValue: T,
		context: EvaluationContext,
	): Promise<ResolutionDetails<T>> {
		const request = { flagKey, context: contextJson(context) };
		const headers: Record<string, string> = {};
		if (this.#selector !== undefined)
			headers["flagd-selector"] = this.#selector;
		let response: {
			value?: unknown;
			reason: string;
			variant: string;
			metadata?: unknown;
		};
		try {
			switch (type) {
				case "boolean":
					response = await this.#client.resolveBoolean(request, { headers });
					break;
				case "string":
					response = await this.#client.resolveString(request, { headers });
					break;
				case "number":
					response = await this.#client.resolveFloat(request, { headers });
					break;
				case "object":
					response = await this.#client.resolveObject(request, { headers });
					break;
			}
		} catch (error: unknown) {
			const connectError = ConnectError.from(error);
			switch (connectError.code) {
				case Code.NotFound:
					throw new FlagNotFoundError(connectError.rawMessage);
				case Code.InvalidArgument:
					throw new TypeMismatchError(connectError.rawMessage);
				case Code.DataLoss:
					throw new ParseError(connectError.rawMessage);
				default:
					throw new GeneralError(
						`${Code[connectError.code]}: ${connectError.rawMessage}`,
					);
			}
		}
		const flagMetadata = (response.metadata ??
			{}) as ResolutionDetails<T>["flagMetadata"];
		if (
			response.variant === "" &&
			(response.reason === "DEFAULT" || response.reason === "DISABLED")
		) {
			return { value: defaultValue, reason: response.reason, flagMetadata };
		}
		return {
			value: (response.value ?? defaultValue) as T,
			variant: response.variant,
			reason: response.reason,
			flagMetadata,
		};
	}
}
