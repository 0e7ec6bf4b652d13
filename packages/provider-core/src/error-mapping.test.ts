import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "@jest/globals";
import { ErrorCode } from "@openfeature/core";
import { ERROR_MAPPING, mapEvaluationError } from "./error-mapping.js";
import { parseStatusCodeNames } from "./status-code-names.js";

describe("mapEvaluationError", () => {
	const cases: Array<[Code, ErrorCode]> = [
		[Code.NotFound, ErrorCode.FLAG_NOT_FOUND],
		[Code.InvalidArgument, ErrorCode.TYPE_MISMATCH],
		[Code.DataLoss, ErrorCode.PARSE_ERROR],
		[Code.Unknown, ErrorCode.GENERAL],
		[Code.Unavailable, ErrorCode.GENERAL],
		[Code.DeadlineExceeded, ErrorCode.GENERAL],
		[Code.Canceled, ErrorCode.GENERAL],
		[Code.Unauthenticated, ErrorCode.GENERAL],
		[Code.PermissionDenied, ErrorCode.GENERAL],
		[Code.ResourceExhausted, ErrorCode.GENERAL],
		[Code.Unimplemented, ErrorCode.GENERAL],
		[Code.Internal, ErrorCode.GENERAL],
		[Code.FailedPrecondition, ErrorCode.GENERAL],
		[Code.Aborted, ErrorCode.GENERAL],
		[Code.OutOfRange, ErrorCode.GENERAL],
		[Code.AlreadyExists, ErrorCode.GENERAL],
	];

	it.each(cases)("maps Connect code %s to %s", (code, expected) => {
		const err = mapEvaluationError(new ConnectError("boom", code));
		expect(err.code).toBe(expected);
		expect(err.message).toContain("boom");
		expect((err as Error & { cause?: unknown }).cause).toBeInstanceOf(
			ConnectError,
		);
	});

	it("has an entry for every Connect code", () => {
		const numeric = Object.values(Code).filter(
			(v): v is number => typeof v === "number",
		);
		for (const c of numeric) expect(ERROR_MAPPING[c as Code]).toBeDefined();
	});

	it("never reports transport failures as FLAG_NOT_FOUND", () => {
		for (const c of [
			Code.Unavailable,
			Code.DeadlineExceeded,
			Code.Canceled,
			Code.Internal,
		]) {
			expect(mapEvaluationError(new ConnectError("x", c)).code).not.toBe(
				ErrorCode.FLAG_NOT_FOUND,
			);
		}
	});

	it("says what happened for transport failures", () => {
		expect(
			mapEvaluationError(new ConnectError("x", Code.Unavailable)).message,
		).toMatch(/unavailable/);
		expect(
			mapEvaluationError(new ConnectError("x", Code.DeadlineExceeded)).message,
		).toMatch(/deadline/);
		expect(
			mapEvaluationError(new ConnectError("x", Code.Unimplemented)).message,
		).toMatch(/apiVersion/);
	});

	it("maps non-Connect errors (e.g. a socket error) to GENERAL", () => {
		const err = mapEvaluationError(new Error("ECONNRESET"));
		expect(err.code).toBe(ErrorCode.GENERAL);
		expect(err.message).toContain("ECONNRESET");
	});
});

describe("parseStatusCodeNames", () => {
	it("accepts gRPC, Connect and numeric spellings", () => {
		const parsed = parseStatusCodeNames([
			"PERMISSION_DENIED",
			"unauthenticated",
			"DataLoss",
			"14",
		]);
		expect([...parsed.codes].sort((a, b) => a - b)).toEqual(
			[
				Code.PermissionDenied,
				Code.Unavailable,
				Code.DataLoss,
				Code.Unauthenticated,
			].sort((a, b) => a - b),
		);
		expect(parsed.unknown).toEqual([]);
	});

	it("reports unknown names", () => {
		expect(parseStatusCodeNames(["A", "NOT_FOUND"]).unknown).toEqual(["A"]);
	});
});
