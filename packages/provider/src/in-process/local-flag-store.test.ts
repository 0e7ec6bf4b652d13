import { parseFlagDocument } from "@flagd-ts/evaluator";
import { describe, expect, it } from "@jest/globals";
import { LocalFlagStore } from "./local-flag-store.js";

function doc(text: string) {
	const parsed = parseFlagDocument(text);
	if (!parsed.ok) throw new Error("test document rejected");
	return parsed.document;
}

const flag = (variant: string) =>
	`{"state":"ENABLED","variants":{"a":"a","b":"b"},"defaultVariant":"${variant}"}`;

describe("LocalFlagStore", () => {
	it("reports exactly the keys added, removed and changed, sorted, and keeps unchanged flags' compiled state", () => {
		const store = new LocalFlagStore({ targetingMode: "compiled" });
		expect(store.loaded).toBe(false);
		expect(
			store.apply(
				doc(`{"flags":{"x":${flag("a")},"y":${flag("a")},"z":${flag("a")}}}`),
			),
		).toEqual(["x", "y", "z"]);
		const y = store.get("y");
		expect(
			store.apply(
				doc(`{"flags":{"w":${flag("a")},"y":${flag("a")},"z":${flag("b")}}}`),
			),
		).toEqual(["w", "x", "z"]);
		expect(store.get("y")).toBe(y);
		expect(store.get("x")).toBeUndefined();
		expect(
			store.apply(
				doc(`{"flags":{"w":${flag("a")},"y":${flag("a")},"z":${flag("b")}}}`),
			),
		).toEqual([]);
		expect(store.loaded).toBe(true);
	});

	it("treats __proto__ and constructor as ordinary flag keys", () => {
		const store = new LocalFlagStore({ targetingMode: "interpreted" });
		expect(
			store.apply(
				doc(`{"flags":{"__proto__":${flag("a")},"constructor":${flag("b")}}}`),
			),
		).toEqual(["__proto__", "constructor"]);
		expect(store.get("__proto__")?.key).toBe("__proto__");
		expect(store.get("toString")).toBeUndefined();
	});

	it("counts set metadata changes as changes of every flag (metadata is merged into each flag)", () => {
		const store = new LocalFlagStore({ targetingMode: "compiled" });
		store.apply(doc(`{"metadata":{"v":1},"flags":{"x":${flag("a")}}}`));
		expect(
			store.apply(doc(`{"metadata":{"v":2},"flags":{"x":${flag("a")}}}`)),
		).toEqual(["x"]);
	});
});
