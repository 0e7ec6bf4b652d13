/**
 * Local persistence of bulk results (ADR-0009). Node has no localStorage, so a Map-backed object with the same
 * three methods stands in for it (the Chromium test in test/browser/ofrep-mode.test.ts uses the real one).
 */
import { describe, expect, it } from "@jest/globals";
import type { OfrepBulkSnapshot } from "./ofrep-bulk-client.js";
import {
	hashKey,
	type KeyValueStorage,
	OfrepFlagStore,
} from "./ofrep-flag-store.js";
import { defaultOfrepCacheKey } from "./ofrep-web-provider-options.js";

function memoryStorage(): KeyValueStorage & { map: Map<string, string> } {
	const map = new Map<string, string>();
	return {
		map,
		getItem: (k) => map.get(k) ?? null,
		setItem: (k, v) => void map.set(k, v),
		removeItem: (k) => void map.delete(k),
	};
}

const snapshot: OfrepBulkSnapshot = {
	flags: [{ key: "a", value: 1, reason: "STATIC" }],
	metadata: { flagSetId: "web" },
	streams: ["http://127.0.0.1:1/ofrep/v1/sse"],
	inactivityDelaySec: 120,
	etag: '"e1"',
};

function store(
	storage: KeyValueStorage,
	selector?: string,
	now = () => 1_000_000,
) {
	return new OfrepFlagStore({
		storage,
		ttlSec: 60,
		keyMaterial: defaultOfrepCacheKey,
		url: "http://127.0.0.1:1",
		selector,
		domain: undefined,
		logger: undefined,
		nowMs: now,
	});
}

describe("OfrepFlagStore", () => {
	it("round-trips a snapshot with its ETag and streams", async () => {
		const storage = memoryStorage();
		const s = store(storage);
		const key = await s.keyOf({ targetingKey: "u1" }, []);
		expect(key).toMatch(/^flagd-ofrep:v1:[0-9a-f]{16}$/);
		s.write(key, snapshot);
		expect(s.read(key)).toEqual(snapshot);
	});

	it("keys by targeting key, selector and auth headers, not by other context attributes", async () => {
		const s = store(memoryStorage());
		const base = await s.keyOf({ targetingKey: "u1", plan: "a" }, []);
		expect(
			await s.keyOf({ targetingKey: "u1", plan: "b" }, [["X-Trace", "1"]]),
		).toBe(base);
		expect(await s.keyOf({ targetingKey: "u2" }, [])).not.toBe(base);
		expect(
			await s.keyOf({ targetingKey: "u1" }, [["Authorization", "t"]]),
		).not.toBe(base);
		expect(
			await store(memoryStorage(), "flagSetId=x").keyOf(
				{ targetingKey: "u1" },
				[],
			),
		).not.toBe(base);
	});

	it("drops entries older than the TTL, corrupt ones and other versions", async () => {
		const storage = memoryStorage();
		let now = 1_000_000;
		const s = store(storage, undefined, () => now);
		const key = await s.keyOf({}, []);
		s.write(key, snapshot);
		now += 61_000;
		expect(s.read(key)).toBeUndefined();
		expect(storage.map.has(key)).toBe(false);
		storage.map.set(key, "{not json");
		expect(s.read(key)).toBeUndefined();
		storage.map.set(key, JSON.stringify({ version: 9, flags: [] }));
		expect(s.read(key)).toBeUndefined();
		expect(storage.map.size).toBe(0);
	});

	it("treats a failing storage (quota, blocked) as a miss and logs it", async () => {
		const warnings: string[] = [];
		const broken: KeyValueStorage = {
			getItem: () => {
				throw new Error("blocked");
			},
			setItem: () => {
				throw new Error("QuotaExceededError");
			},
			removeItem: () => undefined,
		};
		const s = new OfrepFlagStore({
			storage: broken,
			ttlSec: 60,
			keyMaterial: defaultOfrepCacheKey,
			url: "u",
			selector: undefined,
			domain: undefined,
			logger: {
				warn: (m: string) => void warnings.push(m),
				error: () => undefined,
				info: () => undefined,
				debug: () => undefined,
			},
		});
		s.write("k", snapshot);
		expect(s.read("k")).toBeUndefined();
		expect(warnings.join("\n")).toMatch(/QuotaExceededError[\s\S]*blocked/);
	});

	it("hashes with SHA-256 and, without WebCrypto, with a stable FNV-1a fallback", async () => {
		expect(await hashKey("abc")).toBe("ba7816bf8f01cfea");
		const subtle = Object.getOwnPropertyDescriptor(globalThis, "crypto");
		Object.defineProperty(globalThis, "crypto", {
			value: {},
			configurable: true,
		});
		try {
			const a = await hashKey("abc");
			expect(a).toMatch(/^[0-9a-f]{16}$/);
			expect(await hashKey("abc")).toBe(a);
			expect(await hashKey("abd")).not.toBe(a);
		} finally {
			if (subtle !== undefined)
				Object.defineProperty(globalThis, "crypto", subtle);
		}
	});
});
