import { Code, ConnectError } from "@connectrpc/connect";
import {
	FlagNotFoundError,
	GeneralError,
	type OpenFeatureError,
	ParseError,
	TypeMismatchError,
} from "@openfeature/core";

type ErrorFactory = (message: string, cause: ConnectError) => OpenFeatureError;

const general: ErrorFactory = (m, cause) => new GeneralError(m, { cause });

/**
 * The one table from a Connect/gRPC status of an evaluation call to the OpenFeature error the provider throws.
 * flagd's evaluator maps FLAG_NOT_FOUND→NotFound, TYPE_MISMATCH→InvalidArgument, PARSE_ERROR→DataLoss,
 * GENERAL→Unknown (flagd `errFormat`); we invert exactly that. Transport-level codes (Unavailable,
 * DeadlineExceeded, Canceled, ...) are GENERAL with a message saying what happened: they say nothing about the
 * flag, so reporting them as FLAG_NOT_FOUND (as @openfeature/flagd-provider does for Unavailable) would be wrong.
 */
export const ERROR_MAPPING: Readonly<Record<Code, ErrorFactory>> = {
	[Code.Canceled]: (m, c) =>
		new GeneralError(`evaluation canceled: ${m}`, { cause: c }),
	[Code.Unknown]: general,
	[Code.InvalidArgument]: (m, c) => new TypeMismatchError(m, { cause: c }),
	[Code.DeadlineExceeded]: (m, c) =>
		new GeneralError(`flagd did not answer within the deadline: ${m}`, {
			cause: c,
		}),
	[Code.NotFound]: (m, c) => new FlagNotFoundError(m, { cause: c }),
	[Code.AlreadyExists]: general,
	[Code.PermissionDenied]: (m, c) =>
		new GeneralError(`permission denied by flagd: ${m}`, { cause: c }),
	[Code.ResourceExhausted]: (m, c) =>
		new GeneralError(`flagd rejected the request (resource exhausted): ${m}`, {
			cause: c,
		}),
	[Code.FailedPrecondition]: general,
	[Code.Aborted]: general,
	[Code.OutOfRange]: general,
	[Code.Unimplemented]: (m, c) =>
		new GeneralError(
			`flagd does not implement this call (an older daemon may need apiVersion "v1"): ${m}`,
			{ cause: c },
		),
	[Code.Internal]: general,
	[Code.Unavailable]: (m, c) =>
		new GeneralError(`flagd unavailable: ${m}`, { cause: c }),
	[Code.DataLoss]: (m, c) => new ParseError(m, { cause: c }),
	[Code.Unauthenticated]: (m, c) =>
		new GeneralError(`not authenticated with flagd: ${m}`, { cause: c }),
};

/** Maps anything an evaluation call threw to the OpenFeature error to throw from `resolve*`. */
export function mapEvaluationError(err: unknown): OpenFeatureError {
	const connectError = ConnectError.from(err);
	const factory = ERROR_MAPPING[connectError.code] ?? general;
	return factory(
		connectError.rawMessage || Code[connectError.code],
		connectError,
	);
}
