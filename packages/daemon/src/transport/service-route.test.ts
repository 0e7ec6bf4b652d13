import { EvaluationServiceV2, FlagSyncService } from "@flagd-ts/protocol";
import { describe, expect, it } from "@jest/globals";
import { serviceRoute } from "./service-route.js";

describe("serviceRoute", () => {
	it("keeps the methods declared synchronous", () => {
		const route = serviceRoute(
			EvaluationServiceV2,
			{ resolveBoolean: () => ({ value: true }) },
			{ synchronous: ["resolveBoolean"] },
		);
		expect([...route.synchronous]).toEqual(["resolveBoolean"]);
		expect(serviceRoute(EvaluationServiceV2, {}).synchronous.size).toBe(0);
	});

	it("rejects a declaration the direct paths could not honour", () => {
		// A streaming method.
		expect(() =>
			serviceRoute(
				FlagSyncService,
				{ async *syncFlags() {} },
				{ synchronous: ["syncFlags"] },
			),
		).toThrow(
			'serviceRoute(flagd.sync.v1.FlagSyncService): "syncFlags" is declared synchronous but is not an implemented unary method',
		);
		// A unary method without an implementation.
		expect(() =>
			serviceRoute(EvaluationServiceV2, {}, { synchronous: ["resolveInt"] }),
		).toThrow(/"resolveInt" is declared synchronous/);
	});
});
