/**
 * readRuntimeEnv on the runtimes' environment APIs: Deno's permission-gated `Deno.env` (a stand-in object with
 * Deno's API shape, since Deno cannot run inside Jest; the Deno runtime test runs the real one without
 * --allow-env), a `process.env` that throws on access (sandboxed runtimes), and no environment at all.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { readRuntimeEnv } from "./read-runtime-env.js";

const globals = globalThis as Record<string, unknown>;
const originalProcess = globalThis.process;

afterEach(() => {
	delete globals.Deno;
	globals.process = originalProcess;
});

describe("readRuntimeEnv", () => {
	it("reads only the variables Deno grants, without prompting", () => {
		const asked: string[] = [];
		globals.Deno = {
			env: {
				get: (name: string) => {
					if (name !== "FLAGD_HOST") throw new Error("NotCapable");
					return "flagd.internal";
				},
			},
			permissions: {
				querySync: ({ variable }: { variable: string }) => {
					asked.push(variable);
					return { state: variable === "FLAGD_HOST" ? "granted" : "prompt" };
				},
			},
		};
		expect(readRuntimeEnv()).toEqual({ FLAGD_HOST: "flagd.internal" });
		expect(asked).toContain("FLAGD_PORT");
		expect(asked).toContain("FLAGD_SYNC_PORT");
	});

	it("reads process.env where it exists, and treats a throwing one as empty", () => {
		globals.process = {
			env: { FLAGD_PORT: "9000", UNRELATED: "x" },
		} as unknown as NodeJS.Process;
		expect(readRuntimeEnv()).toEqual({ FLAGD_PORT: "9000" });
		globals.process = {
			env: new Proxy(
				{},
				{
					get: () => {
						throw new Error("access denied");
					},
				},
			),
		} as unknown as NodeJS.Process;
		expect(readRuntimeEnv()).toEqual({});
	});

	it("returns nothing where there is no environment (workerd without nodejs_compat)", () => {
		globals.process = undefined as unknown as NodeJS.Process;
		expect(readRuntimeEnv()).toEqual({});
	});
});
