import { describe, expect, it } from "@jest/globals";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { SPAN_KIND_SERVER, SPAN_STATUS_ERROR } from "./span-codes.js";

describe("span codes", () => {
	it("are the OpenTelemetry API's enum values", () => {
		expect(SPAN_KIND_SERVER).toBe(SpanKind.SERVER);
		expect(SPAN_STATUS_ERROR).toBe(SpanStatusCode.ERROR);
	});
});
