import { describe, expect, it } from "@jest/globals";
import { resolveDaemonConfig } from "../config/resolve-daemon-config.js";
import { ContextBuilder } from "./context-builder.js";

const own = (o: object, key: string): unknown =>
	Object.getOwnPropertyDescriptor(o, key)?.value;

describe("ContextBuilder: prototype-named keys are ordinary keys", () => {
	it("takes -X and -H keys named __proto__, constructor and prototype from the command line", () => {
		const { config } = resolveDaemonConfig({
			argv: [
				"-X",
				"__proto__=static-proto",
				"-X",
				"prototype=static-prototype",
				"-H",
				"X-Ctor=constructor",
			],
			env: {},
			readFile: (path) => {
				throw new Error(`no file ${path}`);
			},
		});
		expect(Object.keys(config.staticContext)).toEqual([
			"__proto__",
			"prototype",
		]);
		expect(Object.getPrototypeOf(config.staticContext)).toBe(Object.prototype);
		const builder = new ContextBuilder(config);
		const context = builder.build(
			JSON.parse('{"__proto__":"body","constructor":"body","a":1}'),
			(header) => (header === "x-ctor" ? "from-header" : undefined),
		);
		expect(Object.keys(context).sort()).toEqual(
			["__proto__", "a", "constructor", "prototype"].sort(),
		);
		expect(own(context, "__proto__")).toBe("static-proto");
		expect(own(context, "prototype")).toBe("static-prototype");
		expect(own(context, "constructor")).toBe("from-header");
		expect(Object.getPrototypeOf(context)).toBeNull();
		const staticContext = builder.staticContext();
		expect(own(staticContext, "__proto__")).toBe("static-proto");
		expect(Object.getPrototypeOf(staticContext)).toBe(Object.prototype);
		expect(({} as Record<string, unknown>).a).toBeUndefined();
	});
});
