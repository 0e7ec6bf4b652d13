import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Error catalogue of the web provider. Transport failures carry a Connect code (the protocol's own stable string
 * codes, https://connectrpc.com/docs/protocol#error-codes) so callers and logs can branch on `code` without
 * parsing messages.
 */

/** Connect protocol error codes, as they appear on the wire. */
export type FlagdWebErrorCode =
	| "canceled"
	| "unknown"
	| "invalid_argument"
	| "deadline_exceeded"
	| "not_found"
	| "already_exists"
	| "permission_denied"
	| "resource_exhausted"
	| "failed_precondition"
	| "aborted"
	| "out_of_range"
	| "unimplemented"
	| "internal"
	| "unavailable"
	| "data_loss"
	| "unauthenticated";

const CODES: ReadonlySet<string> = new Set<FlagdWebErrorCode>([
	"canceled",
	"unknown",
	"invalid_argument",
	"deadline_exceeded",
	"not_found",
	"already_exists",
	"permission_denied",
	"resource_exhausted",
	"failed_precondition",
	"aborted",
	"out_of_range",
	"unimplemented",
	"internal",
	"unavailable",
	"data_loss",
	"unauthenticated",
]);

/** A failed call to flagd: network error, HTTP error, Connect error or a response that breaks the protocol. */
export class FlagdWebError extends Error {
	override readonly name = "FlagdWebError";
	readonly code: FlagdWebErrorCode;

	constructor(
		message: string,
		code: FlagdWebErrorCode,
		options?: { cause?: unknown },
	) {
		super(message, options);
		this.code = code;
	}
}

/** True for a {@link FlagdWebError}, also when it comes from another copy of this package. */
export function isFlagdWebError(e: unknown): e is FlagdWebError {
	return (
		e instanceof Error &&
		e.name === "FlagdWebError" &&
		typeof (e as { code?: unknown }).code === "string"
	);
}

/** Reads a Connect code from the wire; anything unrecognised is `unknown` (Connect spec). */
export function parseErrorCode(code: unknown): FlagdWebErrorCode {
	return typeof code === "string" && CODES.has(code)
		? (code as FlagdWebErrorCode)
		: "unknown";
}

/**
 * The Connect spec's mapping from an HTTP status to a code, for error responses without a Connect error body
 * (a proxy's 502, a wrong pathPrefix's 404, ...).
 */
export function codeFromHttpStatus(status: number): FlagdWebErrorCode {
	switch (status) {
		case 400:
			return "internal";
		case 401:
			return "unauthenticated";
		case 403:
			return "permission_denied";
		case 404:
			return "unimplemented";
		case 408:
			return "deadline_exceeded";
		case 429:
		case 502:
		case 503:
		case 504:
			return "unavailable";
		default:
			return "unknown";
	}
}

/** Wraps anything a call threw into a {@link FlagdWebError}; aborts become `canceled` or the abort reason. */
export function toFlagdWebError(
	e: unknown,
	signal?: AbortSignal,
): FlagdWebError {
	if (signal?.aborted && isFlagdWebError(signal.reason)) return signal.reason;
	if (isFlagdWebError(e)) return e;
	if (signal?.aborted) {
		return new FlagdWebError("call canceled", "canceled", { cause: e });
	}
	// fetch rejects with a TypeError for network failures and CORS refusals; both mean "not reachable".
	const message = e instanceof Error ? e.message : String(e);
	return new FlagdWebError(`flagd unreachable: ${message}`, "unavailable", {
		cause: e,
	});
}

/**
 * The same failure as a connect-es `ConnectError` with the matching code (`deadline_exceeded` →
 * `Code.DeadlineExceeded`), the form provider-core's stream supervisor reads; the original is its cause.
 */
export function toConnectError(error: FlagdWebError): ConnectError {
	const name = error.code.replace(/(?:^|_)([a-z])/g, (_m, c: string) =>
		c.toUpperCase(),
	) as keyof typeof Code;
	return new ConnectError(
		error.message,
		Code[name] ?? Code.Unknown,
		undefined,
		undefined,
		error,
	);
}
