import { describe, expect, it } from "@jest/globals";
import {
	type LogEntry,
	recordingLogger,
} from "../logging/testdata/recording-logger.js";
import { FlagStore } from "./flag-store.js";
import type { FlagChanges } from "./flag-view.js";
import { parseSelector, SELECT_ALL } from "./selector.js";

function flag(variant: string, extra: Record<string, unknown> = {}) {
	return {
		state: "ENABLED",
		variants: { a: "A", b: "B", c: "C" },
		defaultVariant: variant,
		...extra,
	};
}

function doc(
	flags: Record<string, unknown>,
	metadata?: Record<string, unknown>,
) {
	return JSON.stringify(
		metadata === undefined ? { flags } : { flags, metadata },
	);
}

/** Applies `document` as JSON text from `source`; returns what the store answered. */
function applyDocument(store: FlagStore, source: string, document: unknown) {
	return store.apply({
		source,
		format: "json",
		content: JSON.stringify(document),
	});
}

/** Applies one JSON flag document (see {@link doc}) from `source`; returns what the store answered. */
function applyJson(
	store: FlagStore,
	source: string,
	flags: Record<string, unknown>,
	metadata?: Record<string, unknown>,
) {
	return store.apply({ source, format: "json", content: doc(flags, metadata) });
}

function newStore(lines: LogEntry[] = []) {
	return new FlagStore({
		sources: ["low", "mid", "high"],
		logger: recordingLogger(lines),
	});
}

function variantOf(store: FlagStore, key: string, selector = SELECT_ALL) {
	return store.get(key, selector)?.compiled.definition.defaultVariant;
}

describe("FlagStore merge", () => {
	it("lets later sources win on the same (flagSetId, key) and keeps the rest of every source", () => {
		const store = newStore();
		applyJson(store, "low", { x: flag("a"), onlyLow: flag("a") });
		applyJson(store, "mid", { x: flag("b"), onlyMid: flag("b") });
		applyJson(store, "high", { x: flag("c") });
		expect(variantOf(store, "x")).toBe("c");
		expect(store.get("x")?.source).toBe("high");
		expect(variantOf(store, "onlyLow")).toBe("a");
		expect(variantOf(store, "onlyMid")).toBe("b");
	});

	it("applies priority by configured order, not by arrival order", () => {
		const store = newStore();
		applyJson(store, "high", { x: flag("c") });
		applyJson(store, "low", { x: flag("a") });
		expect(variantOf(store, "x")).toBe("c");
	});

	it("re-exposes the lower copy at once when the top source drops a flag (flagd#1809)", () => {
		const store = newStore();
		applyJson(store, "low", { x: flag("a") });
		applyJson(store, "mid", { x: flag("b") });
		applyJson(store, "high", { x: flag("c"), y: flag("c") });
		applyJson(store, "high", { y: flag("c") });
		expect(variantOf(store, "x")).toBe("b");
		applyJson(store, "mid", {});
		expect(variantOf(store, "x")).toBe("a");
	});

	it("keeps flags with the same key in different flag sets apart", () => {
		const store = newStore();
		applyJson(store, "low", { x: flag("a") }, { flagSetId: "set-1" });
		applyJson(store, "high", { x: flag("c") }, { flagSetId: "set-2" });
		expect(store.view().list.map((f) => [f.flagSetId, f.key])).toEqual([
			["set-1", "x"],
			["set-2", "x"],
		]);
		// Without a selector, the highest-priority source's copy answers a key lookup.
		expect(variantOf(store, "x")).toBe("c");
		expect(variantOf(store, "x", parseSelector("flagSetId=set-1"))).toBe("a");
		expect(variantOf(store, "x", parseSelector("flagSetId=set-2"))).toBe("c");
	});

	it("takes a flag's own metadata.flagSetId over the set's", () => {
		const store = newStore();
		applyJson(
			store,
			"low",
			{ x: flag("a", { metadata: { flagSetId: "own" } }), y: flag("a") },
			{ flagSetId: "set" },
		);
		expect(store.get("x", parseSelector("flagSetId=own"))).toBeDefined();
		expect(store.get("y", parseSelector("flagSetId=set"))).toBeDefined();
		expect(store.get("x", parseSelector("flagSetId=set"))).toBeUndefined();
	});
});

describe("FlagStore selectors", () => {
	function threeSources() {
		const store = newStore();
		applyJson(store, "low", { shared: flag("a"), plain: flag("a") });
		applyJson(
			store,
			"mid",
			{ shared: flag("b"), midOnly: flag("b") },
			{ flagSetId: "payments" },
		);
		applyJson(store, "high", { shared: flag("c") });
		return store;
	}

	it("source=<uri> and a bare <uri> select that source's own flags", () => {
		const store = threeSources();
		for (const text of ["source=low", "low"]) {
			const view = store.view(parseSelector(text));
			expect([...view.byKey.keys()].sort()).toEqual(["plain", "shared"]);
			expect(view.byKey.get("shared")?.compiled.definition.defaultVariant).toBe(
				"a",
			);
		}
	});

	it("flagSetId=<id> selects one set across sources, flagSetId= the flags without a set", () => {
		const store = threeSources();
		expect(
			[...store.view(parseSelector("flagSetId=payments")).byKey.keys()].sort(),
		).toEqual(["midOnly", "shared"]);
		const noSet = store.view(parseSelector("flagSetId="));
		expect([...noSet.byKey.keys()].sort()).toEqual(["plain", "shared"]);
		// Within the implicit set, high overrides low.
		expect(noSet.byKey.get("shared")?.source).toBe("high");
	});

	it("keeps flag-set selection working when the source that first had the set is gone", () => {
		const store = newStore();
		applyJson(store, "low", { f: flag("a") }, { flagSetId: "s" });
		applyJson(store, "high", { f: flag("c") }, { flagSetId: "s" });
		store.clearSource("high");
		expect(variantOf(store, "f", parseSelector("flagSetId=s"))).toBe("a");
	});

	it("caches a view until the next change", () => {
		const store = threeSources();
		const selector = parseSelector("flagSetId=payments");
		const view = store.view(selector);
		expect(store.view(selector)).toBe(view);
		applyJson(store, "low", { other: flag("a") });
		expect(store.view(selector)).not.toBe(view);
	});
});

describe("FlagStore change events", () => {
	it("reports how many flags a source holds and how many identities a payload changed", () => {
		const store = newStore();
		expect(
			applyJson(store, "low", { a: flag("a"), b: flag("a"), keep: flag("a") }),
		).toEqual({
			ok: true,
			changed: true,
			flagCount: 3,
			changedKeyCount: 3,
			changedKeys: ["a", "b", "keep"],
			invalidFlagKeys: [],
		});
		// a updated, b removed, c added, keep untouched.
		expect(
			applyJson(store, "low", { a: flag("b"), c: flag("a"), keep: flag("a") }),
		).toEqual({
			ok: true,
			changed: true,
			flagCount: 3,
			changedKeyCount: 3,
			changedKeys: ["a", "c", "b"],
			invalidFlagKeys: [],
		});
	});

	it("reports the precise added, updated and deleted keys per selector view", () => {
		const store = newStore();
		applyJson(store, "low", {
			keep: flag("a"),
			change: flag("a"),
			drop: flag("a"),
		});
		const all: FlagChanges[] = [];
		const setOnly: FlagChanges[] = [];
		store.subscribe(SELECT_ALL, (changes) => all.push(changes));
		store.subscribe(parseSelector("flagSetId=s"), (changes) =>
			setOnly.push(changes),
		);
		applyJson(store, "low", {
			keep: flag("a"),
			change: flag("b"),
			added: flag("a"),
		});
		expect(all).toEqual([
			{ added: ["added"], updated: ["change"], deleted: ["drop"] },
		]);
		expect(setOnly).toEqual([]);
	});

	it("sends nothing for an unchanged payload, even re-serialised differently", () => {
		const store = newStore();
		applyJson(store, "low", { x: flag("a") });
		const events: FlagChanges[] = [];
		store.subscribe(SELECT_ALL, (changes) => events.push(changes));
		const version = store.version;
		const unchanged = {
			ok: true,
			changed: false,
			flagCount: 1,
			changedKeyCount: 0,
			changedKeys: [],
			invalidFlagKeys: [],
		};
		expect(applyJson(store, "low", { x: flag("a") })).toEqual(unchanged);
		expect(
			store.apply({
				source: "low",
				format: "json",
				content: `{ "flags": { "x": ${JSON.stringify(flag("a"), null, 2)} } }`,
			}),
		).toEqual(unchanged);
		expect(events).toEqual([]);
		expect(store.version).toBe(version);
	});

	it("reports an update when a delete in the top source re-exposes a different lower copy", () => {
		const store = newStore();
		applyJson(store, "low", { x: flag("a") });
		applyJson(store, "high", { x: flag("c") });
		const events: FlagChanges[] = [];
		store.subscribe(SELECT_ALL, (changes) => events.push(changes));
		applyJson(store, "high", {});
		expect(events).toEqual([{ added: [], updated: ["x"], deleted: [] }]);
	});

	it("stops calling a listener after unsubscribe, and survives a listener that throws", () => {
		const lines: LogEntry[] = [];
		const store = newStore(lines);
		let calls = 0;
		const unsubscribe = store.subscribe(SELECT_ALL, () => {
			calls++;
		});
		store.subscribe(SELECT_ALL, () => {
			throw new Error("listener broke");
		});
		applyJson(store, "low", { x: flag("a") });
		unsubscribe();
		applyJson(store, "low", { x: flag("b") });
		expect(calls).toBe(1);
		expect(
			lines.some(
				(l) => l.level === "error" && l.message.includes("listener broke"),
			),
		).toBe(true);
	});
});

describe("FlagStore fan-out", () => {
	it("the sync document it serves is read back strictly, without a warning (a daemon syncing from ours)", () => {
		const upstream = newStore();
		applyDocument(upstream, "low", {
			metadata: { flagSetId: "shop", team: "t" },
			flags: {
				plain: flag("a"),
				targeted: flag("b", {
					targeting: { if: [{ "==": [{ var: "x" }, 1] }, "c", null] },
					metadata: { owner: "o" },
				}),
				noDefault: { state: "DISABLED", variants: { a: 1 } },
			},
		});
		const lines: LogEntry[] = [];
		const edge = new FlagStore({
			sources: ["grpc://upstream:8015"],
			logger: recordingLogger(lines),
			strictValidation: true,
		});
		const result = edge.apply({
			source: "grpc://upstream:8015",
			format: "json",
			content: upstream.view().syncDocument(),
		});
		expect(result).toMatchObject({ ok: true, flagCount: 3 });
		expect(lines).toEqual([]);
		expect(edge.get("targeted")?.flagSetId).toBe("shop");
	});

	it("takes flagd's `selector` flag property (flagd < 0.12) without a warning", () => {
		const lines: LogEntry[] = [];
		const edge = new FlagStore({
			sources: ["up"],
			logger: recordingLogger(lines),
			strictValidation: true,
		});
		const result = applyJson(edge, "up", {
			x: flag("a", { source: "flags.json", selector: "" }),
		});
		expect(result.ok).toBe(true);
		expect(lines).toEqual([]);
	});
});

describe("FlagStore invalid flags", () => {
	const broken = {
		state: "ENABLED",
		variants: { a: 1 },
		defaultVariant: "zzz",
	};

	it("serves the valid flags of a document, leaves out an invalid one and names it in one line", () => {
		const lines: LogEntry[] = [];
		const store = newStore(lines);
		const result = applyJson(store, "mid", {
			good: flag("b"),
			bad: broken,
			other: flag("c"),
		});
		expect(result).toMatchObject({
			ok: true,
			flagCount: 2,
			invalidFlagKeys: ["bad"],
		});
		expect(store.isSourceReady("mid")).toBe(true);
		expect(variantOf(store, "good")).toBe("b");
		expect(variantOf(store, "other")).toBe("c");
		expect(store.get("bad")).toBeUndefined();
		expect(lines).toEqual([
			{
				level: "warn",
				fields: { source: "mid", invalidFlags: 1 },
				message:
					'source mid: 1 invalid flag is not served: "bad" (/flags/bad/defaultVariant: defaultVariant "zzz" is not one of the variants (a))',
			},
		]);
		// The same document again is unchanged: nothing is logged twice.
		applyJson(store, "mid", { good: flag("b"), bad: broken, other: flag("c") });
		expect(lines).toHaveLength(1);
	});

	it("a flag that becomes invalid stops being served; the rest of the source is updated", () => {
		const store = newStore();
		applyJson(store, "mid", { x: flag("a"), y: flag("a") });
		const result = applyJson(store, "mid", { x: broken, y: flag("b") });
		expect(result).toMatchObject({ ok: true, changedKeys: ["y", "x"] });
		expect(store.get("x")).toBeUndefined();
		expect(variantOf(store, "y")).toBe("b");
	});

	it("--strict-validation rejects the whole document instead; a first document is not logged here", () => {
		const lines: LogEntry[] = [];
		const store = new FlagStore({
			sources: ["only"],
			logger: recordingLogger(lines),
			strictValidation: true,
		});
		const result = applyJson(store, "only", { good: flag("b"), bad: broken });
		expect(result.ok).toBe(false);
		// The source never had flags: nothing to keep, and the caller (the daemon) reports it.
		expect(!result.ok && result.error.message).toBe(
			'source only: invalid flag document: /flags/bad/defaultVariant: defaultVariant "zzz" is not one of the variants (a)',
		);
		expect(lines).toEqual([]);
		expect(store.isReady()).toBe(false);
		expect(store.get("good")).toBeUndefined();
	});
});

describe("FlagStore invalid payloads and readiness", () => {
	const bad: [string, unknown][] = [
		["random bytes", "\u0000\u00ff\u0013garbage{{"],
		["JSON that is not an object", "[1,2,3]"],
		["a document without flags", "{}"],
		[
			"an array-form flag without a key",
			JSON.stringify({ flags: [{ state: "ENABLED", variants: { a: 1 } }] }),
		],
		["deeply nested JSON", `${"[".repeat(100_000)}${"]".repeat(100_000)}`],
	];

	it.each(bad)(
		"keeps the last good flags on %s and logs one line naming the source",
		(_name, content) => {
			const lines: LogEntry[] = [];
			const store = newStore(lines);
			applyJson(store, "mid", { x: flag("b") });
			lines.length = 0;
			const result = store.apply({ source: "mid", format: "json", content });
			expect(result.ok).toBe(false);
			expect(!result.ok && result.error.code).toBe("SOURCE_PAYLOAD_INVALID");
			expect(variantOf(store, "x")).toBe("b");
			expect(lines).toHaveLength(1);
			expect(lines[0]?.level).toBe("warn");
			expect(lines[0]?.message).toContain("source mid");
			expect(lines[0]?.fields).toEqual({ source: "mid" });
		},
	);

	it("handles a 10 MB payload without crashing", () => {
		const store = newStore();
		const flags: Record<string, unknown> = {};
		for (let i = 0; i < 40_000; i++)
			flags[`flag-${i}`] = flag("a", { metadata: { pad: "x".repeat(150) } });
		const content = doc(flags);
		expect(content.length).toBeGreaterThan(10_000_000);
		expect(store.apply({ source: "low", format: "json", content }).ok).toBe(
			true,
		);
		expect(store.view().list).toHaveLength(40_000);
	});

	it("rejects a payload from a source it does not know", () => {
		const store = newStore();
		const result = applyJson(store, "nope", {});
		expect(result.ok).toBe(false);
	});

	it("is ready once every source delivered a valid payload, not before", () => {
		const store = newStore();
		expect(store.isReady()).toBe(false);
		applyJson(store, "low", {});
		store.apply({ source: "mid", format: "json", content: "not json" });
		applyJson(store, "high", {});
		expect(store.isReady()).toBe(false);
		expect(store.isSourceReady("mid")).toBe(false);
		applyJson(store, "mid", {});
		expect(store.isReady()).toBe(true);
	});

	it("reads YAML payloads", () => {
		const store = newStore();
		const yaml =
			"flags:\n  y:\n    state: ENABLED\n    variants: { a: 1 }\n    defaultVariant: a\n";
		expect(
			store.apply({ source: "low", format: "yaml", content: yaml }).ok,
		).toBe(true);
		expect(store.get("y")).toBeDefined();
	});
});

describe("FlagStore sync documents", () => {
	it('renders flagd\'s flag_configuration: flattened, $ref inlined, metadata merged, source, defaultVariant ""', () => {
		const store = newStore();
		applyDocument(store, "low", {
			$evaluators: { isAdmin: { "==": [{ var: "role" }, "admin"] } },
			metadata: { flagSetId: "s", version: "1" },
			flags: {
				t: {
					state: "ENABLED",
					variants: { on: true, off: false },
					defaultVariant: "off",
					targeting: { if: [{ $ref: "isAdmin" }, "on", null] },
					metadata: { owner: "me" },
				},
				n: { state: "DISABLED", variants: { a: 1 } },
			},
		});
		expect(JSON.parse(store.view().syncDocument())).toEqual({
			flags: {
				n: {
					state: "DISABLED",
					defaultVariant: "",
					variants: { a: 1 },
					source: "low",
					metadata: { flagSetId: "s", version: "1" },
				},
				t: {
					state: "ENABLED",
					defaultVariant: "off",
					variants: { on: true, off: false },
					targeting: { if: [{ "==": [{ var: "role" }, "admin"] }, "on", null] },
					source: "low",
					metadata: { flagSetId: "s", version: "1", owner: "me" },
				},
			},
		});
	});
});

describe("FlagStore.waitUntilReady", () => {
	it("resolves true when the last source becomes ready, false on timeout or abort", async () => {
		const store = newStore();
		applyJson(store, "low", {});
		applyJson(store, "mid", {});
		expect(await store.waitUntilReady(20)).toBe(false);
		const controller = new AbortController();
		const aborted = store.waitUntilReady(10_000, controller.signal);
		controller.abort();
		expect(await aborted).toBe(false);
		const waiting = store.waitUntilReady(10_000);
		applyJson(store, "high", {});
		expect(await waiting).toBe(true);
		expect(await store.waitUntilReady(0)).toBe(true);
	});
});

describe("FlagStore subscription groups", () => {
	it("gives a listener that joins later the current view as baseline, and diffs once per selector", () => {
		const store = newStore();
		applyJson(store, "low", { x: flag("a") });
		const early: FlagChanges[] = [];
		store.subscribe(SELECT_ALL, (changes) => early.push(changes));
		applyJson(store, "low", { x: flag("b") });
		const late: FlagChanges[] = [];
		const unsubscribeLate = store.subscribe(SELECT_ALL, (changes) =>
			late.push(changes),
		);
		applyJson(store, "low", { x: flag("b"), y: flag("a") });
		expect(early).toEqual([
			{ added: [], updated: ["x"], deleted: [] },
			{ added: ["y"], updated: [], deleted: [] },
		]);
		expect(late).toEqual([{ added: ["y"], updated: [], deleted: [] }]);
		unsubscribeLate();
		applyJson(store, "low", {});
		expect(late).toHaveLength(1);
		expect(early).toHaveLength(3);
	});
});

describe("FlagStore prototype-named keys", () => {
	const KEYS = ["__proto__", "constructor", "hasOwnProperty", "toString"];

	function protoDoc(variant: string): string {
		// Built as text: an object literal with a "__proto__" key would set a prototype instead.
		return `{"flags":{${KEYS.map((k) => `"${k}":${JSON.stringify(flag(variant))}`).join(",")}}}`;
	}

	it("stores, looks up, renders and reports changes of them as plain keys", () => {
		const store = newStore();
		const events: FlagChanges[] = [];
		store.subscribe(SELECT_ALL, (changes) => events.push(changes));
		expect(
			store.apply({ source: "low", content: protoDoc("a"), format: "json" }).ok,
		).toBe(true);
		expect(events).toEqual([{ added: KEYS, updated: [], deleted: [] }]);
		for (const key of KEYS) expect(variantOf(store, key)).toBe("a");
		const sync = JSON.parse(store.view().syncDocument()) as {
			flags: Record<string, unknown>;
		};
		expect(Object.keys(sync.flags).sort()).toEqual([...KEYS].sort());
		store.apply({ source: "low", content: protoDoc("b"), format: "json" });
		expect(events[1]).toEqual({ added: [], updated: KEYS, deleted: [] });
		expect(variantOf(store, "__proto__")).toBe("b");
		applyJson(store, "low", { other: flag("a") });
		expect(events[2]?.deleted).toEqual(KEYS);
		expect(store.get("__proto__")).toBeUndefined();
		expect(store.get("constructor")).toBeUndefined();
		expect(({} as Record<string, unknown>).state).toBeUndefined();
	});
});
