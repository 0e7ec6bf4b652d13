import type { EvaluationContext, Logger } from "@openfeature/web-sdk";
import type { OfrepBulkSnapshot } from "./ofrep-bulk-client.js";
import type { OfrepCacheKeyInput } from "./ofrep-web-provider-options.js";

/** The part of the Web Storage API used here (localStorage in a page). */
export type KeyValueStorage = Pick<
	Storage,
	"getItem" | "setItem" | "removeItem"
>;

/** Header names whose values separate persisted entries (as in @openfeature/ofrep-web-provider). */
const AUTH_HEADERS = new Set([
	"authorization",
	"api-key",
	"x-api-key",
	"x-auth-token",
	"x-access-token",
]);

const PREFIX = "flagd-ofrep:v1:";

interface PersistedEntry extends OfrepBulkSnapshot {
	readonly version: 1;
	readonly writtenAtMs: number;
}

export interface OfrepFlagStoreOptions {
	readonly storage: KeyValueStorage;
	readonly ttlSec: number;
	readonly keyMaterial: (input: OfrepCacheKeyInput) => string;
	readonly url: string;
	readonly selector: string | undefined;
	readonly domain: string | undefined;
	readonly logger: Logger | undefined;
	/** A test seam. @default Date.now */
	readonly nowMs?: () => number;
}

/**
 * Local persistence of bulk results (OFREP ADR-0009): one entry per key (base URL, selector, domain, auth headers,
 * targeting key by default), with its ETag and advertised streams, expiring after `ttlSec`. Storage problems
 * (quota, disabled storage, a corrupt entry) are logged and treated as a miss; they never fail an evaluation.
 */
export class OfrepFlagStore {
	readonly #options: OfrepFlagStoreOptions;
	readonly #now: () => number;

	constructor(options: OfrepFlagStoreOptions) {
		this.#options = options;
		this.#now = options.nowMs ?? Date.now;
	}

	/** The storage key for a context and the headers in use. */
	async keyOf(
		context: EvaluationContext,
		headers: readonly [string, string][],
	): Promise<string> {
		const auth = headers
			.filter(([name]) => AUTH_HEADERS.has(name.toLowerCase()))
			.map(([name, value]) => [name.toLowerCase(), value])
			.sort((a, b) => ((a[0] ?? "") < (b[0] ?? "") ? -1 : 1));
		const material = this.#options.keyMaterial({
			url: this.#options.url,
			selector: this.#options.selector,
			domain: this.#options.domain,
			auth: auth.length === 0 ? undefined : JSON.stringify(auth),
			targetingKey: context.targetingKey,
			context,
		});
		return `${PREFIX}${await hashKey(String(material))}`;
	}

	/** The entry under `key`, or undefined when absent, expired (then removed), corrupt or unreadable. */
	read(key: string): OfrepBulkSnapshot | undefined {
		let raw: string | null;
		try {
			raw = this.#options.storage.getItem(key);
		} catch (e: unknown) {
			this.#warn("cannot read persisted flags", e);
			return undefined;
		}
		if (raw === null) return undefined;
		let entry: Partial<PersistedEntry>;
		try {
			entry = JSON.parse(raw) as Partial<PersistedEntry>;
		} catch (e: unknown) {
			this.#warn("persisted flags are corrupt; ignoring them", e);
			this.remove(key);
			return undefined;
		}
		if (
			entry?.version !== 1 ||
			typeof entry.writtenAtMs !== "number" ||
			!Array.isArray(entry.flags) ||
			!Array.isArray(entry.streams)
		) {
			this.remove(key);
			return undefined;
		}
		if (this.#now() - entry.writtenAtMs > this.#options.ttlSec * 1000) {
			this.remove(key);
			return undefined;
		}
		return {
			flags: entry.flags,
			metadata: entry.metadata ?? {},
			streams: entry.streams,
			inactivityDelaySec: entry.inactivityDelaySec,
			etag: entry.etag ?? null,
		};
	}

	write(key: string, snapshot: OfrepBulkSnapshot): void {
		const entry: PersistedEntry = {
			version: 1,
			writtenAtMs: this.#now(),
			...snapshot,
		};
		try {
			this.#options.storage.setItem(key, JSON.stringify(entry));
		} catch (e: unknown) {
			this.#warn("cannot persist flags", e);
		}
	}

	remove(key: string): void {
		try {
			this.#options.storage.removeItem(key);
		} catch (e: unknown) {
			this.#warn("cannot remove persisted flags", e);
		}
	}

	#warn(what: string, e: unknown): void {
		this.#options.logger?.warn(
			`OFREP web provider: ${what}: ${e instanceof Error ? e.message : String(e)}`,
		);
	}
}

/** SHA-256 (16 hex digits) where WebCrypto is available (secure contexts), else a double FNV-1a. */
export async function hashKey(input: string): Promise<string> {
	const subtle = globalThis.crypto?.subtle;
	if (subtle !== undefined) {
		const digest = await subtle.digest(
			"SHA-256",
			new TextEncoder().encode(input),
		);
		return [...new Uint8Array(digest).slice(0, 8)]
			.map((b) => b.toString(16).padStart(2, "0"))
			.join("");
	}
	const fnv = (seed: number) => {
		let h = seed >>> 0;
		for (let i = 0; i < input.length; i++) {
			h = Math.imul(h ^ input.charCodeAt(i), 0x01000193) >>> 0;
		}
		return h.toString(16).padStart(8, "0");
	};
	return fnv(0x811c9dc5) + fnv(0x27d4eb2f);
}

/** The page's localStorage, or undefined where there is none or it is blocked. */
export function defaultStorage(): KeyValueStorage | undefined {
	try {
		return typeof localStorage === "undefined" ? undefined : localStorage;
	} catch {
		return undefined; // accessing it throws when the user blocks site data
	}
}
