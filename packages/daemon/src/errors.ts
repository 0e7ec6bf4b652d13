/**
 * The daemon's one error catalogue (C18): a base class with a stable string code. Callers branch on `code`, and
 * `isDaemonError` survives duplicate copies of the package (C19).
 */
export type DaemonErrorCode =
	| "CONFIG_INVALID"
	| "SOURCE_URI_INVALID"
	| "SOURCE_UNAVAILABLE"
	| "SOURCE_PAYLOAD_INVALID"
	| "SELECTOR_INVALID"
	| "LISTEN_FAILED";

export class DaemonError extends Error {
	override readonly name = "DaemonError";
	readonly code: DaemonErrorCode;

	constructor(
		code: DaemonErrorCode,
		message: string,
		options?: { cause?: unknown },
	) {
		super(message, options);
		this.code = code;
	}
}

export function isDaemonError(e: unknown): e is DaemonError {
	return (
		e instanceof Error &&
		e.name === "DaemonError" &&
		typeof (e as { code?: unknown }).code === "string"
	);
}
