/**
 * The one place that turns daemon outcomes into Connect errors (C20): evaluator error codes with flagd's messages
 * (flagd-protocol.md §6) and DaemonErrors (invalid selector → invalid_argument).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { EvaluationErrorCode } from "@flagd-ts/evaluator";
import { EVALUATION_ERROR_MESSAGES } from "@flagd-ts/protocol";
import { isDaemonError } from "../errors.js";

const CODES: Readonly<Record<EvaluationErrorCode, Code>> = {
	FLAG_NOT_FOUND: Code.NotFound,
	TYPE_MISMATCH: Code.InvalidArgument,
	PARSE_ERROR: Code.DataLoss,
	GENERAL: Code.Unknown,
};

/** flagd's Connect error for an evaluator error code. */
export function evaluationError(code: EvaluationErrorCode): ConnectError {
	return new ConnectError(EVALUATION_ERROR_MESSAGES[code], CODES[code]);
}

/** Any failure inside a handler as a Connect error; DaemonErrors keep their message. */
export function toConnectError(e: unknown): ConnectError {
	if (e instanceof ConnectError) return e;
	if (isDaemonError(e)) {
		const code =
			e.code === "SELECTOR_INVALID" ? Code.InvalidArgument : Code.Internal;
		return new ConnectError(e.message, code, undefined, undefined, e);
	}
	return ConnectError.from(e, Code.Internal);
}
