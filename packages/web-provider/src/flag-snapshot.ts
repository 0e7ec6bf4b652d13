import type { JsonValue } from "@openfeature/web-sdk";
import {
	type FlagMetadata,
	FlagNotFoundError,
	type FlagValue,
	GeneralError,
	type ResolutionDetails,
	StandardResolutionReasons,
	TypeMismatchError,
} from "@openfeature/web-sdk";
import { FlagdWebError } from "./errors.js";

/** The value kinds of flagd.evaluation.v1 `AnyFlag` (its `value` oneof). */
export type FlagKind = "boolean" | "string" | "number" | "object";

/** One flag of a ResolveAll response, checked and copied into plain data. */
export interface SnapshotFlag {
	readonly kind: FlagKind | undefined;
	readonly value: FlagValue | undefined;
	readonly variant: string;
	readonly reason: string;
	readonly flagMetadata: FlagMetadata;
}

/** protojson field names of the `value` oneof (lowerCamel, plus the proto names protojson also accepts). */
const VALUE_FIELDS: ReadonlyArray<readonly [string, string, FlagKind]> = [
	["boolValue", "bool_value", "boolean"],
	["stringValue", "string_value", "string"],
	["doubleValue", "double_value", "number"],
	["objectValue", "object_value", "object"],
];

/**
 * All flags flagd evaluated for one context (a ResolveAll response), answering the synchronous `resolve*` calls.
 * Built from untrusted JSON: keys live in a Map and values are deep-copied with `__proto__` kept as a plain key,
 * so no response can reach a prototype.
 */
export class FlagSnapshot {
	readonly flags: ReadonlyMap<string, SnapshotFlag>;

	private constructor(flags: ReadonlyMap<string, SnapshotFlag>) {
		this.flags = flags;
	}

	/** Parses a ResolveAll response; throws `FlagdWebError` (`internal`) when its shape is wrong. */
	static fromResponse(json: unknown): FlagSnapshot {
		if (!isObject(json)) throw malformed("the response is not an object");
		const raw = json.flags ?? {};
		if (!isObject(raw)) throw malformed("`flags` is not an object");
		const flags = new Map<string, SnapshotFlag>();
		for (const key of Object.keys(raw)) {
			flags.set(key, parseFlag(key, raw[key]));
		}
		return new FlagSnapshot(flags);
	}

	/**
	 * Resolves one flag for the expected kind. Unknown key → FLAG_NOT_FOUND; other kind → TYPE_MISMATCH; flagd's
	 * reason ERROR → GENERAL (v1 carries no error code per flag); no value, or an empty variant with reason
	 * DEFAULT/DISABLED (flagd's code-default signal) → the caller's default with flagd's reason.
	 * `stale` replaces the reason with STALE: the values may be out of date while the event stream is down.
	 */
	resolve<T extends FlagValue>(
		key: string,
		kind: FlagKind,
		defaultValue: T,
		stale: boolean,
	): ResolutionDetails<T> {
		const flag = this.flags.get(key);
		if (flag === undefined) {
			throw new FlagNotFoundError(
				`flag "${key}" not found in flagd's response`,
			);
		}
		if (flag.reason === StandardResolutionReasons.ERROR) {
			throw new GeneralError(`flagd could not evaluate flag "${key}"`);
		}
		if (flag.kind !== undefined && flag.kind !== kind) {
			throw new TypeMismatchError(
				`flag "${key}" is a ${flag.kind} flag, not a ${kind} flag`,
			);
		}
		const codeDefault =
			flag.value === undefined ||
			(flag.variant === "" &&
				(flag.reason === StandardResolutionReasons.DEFAULT ||
					flag.reason === StandardResolutionReasons.DISABLED));
		const details: ResolutionDetails<T> = {
			value: codeDefault ? defaultValue : (copyValue(flag.value) as T),
			reason: stale ? StandardResolutionReasons.STALE : flag.reason,
			flagMetadata: flag.flagMetadata,
		};
		if (!codeDefault) details.variant = flag.variant;
		return details;
	}

	/** Keys whose evaluation differs between two snapshots (added, removed or changed). */
	changedKeys(previous: FlagSnapshot | undefined): string[] {
		const changed: string[] = [];
		for (const [key, flag] of this.flags) {
			const old = previous?.flags.get(key);
			if (old === undefined || !sameFlag(old, flag)) changed.push(key);
		}
		for (const key of previous?.flags.keys() ?? []) {
			if (!this.flags.has(key)) changed.push(key);
		}
		return changed;
	}
}

function parseFlag(key: string, raw: unknown): SnapshotFlag {
	if (!isObject(raw)) throw malformed(`flag "${key}" is not an object`);
	let kind: FlagKind | undefined;
	let value: FlagValue | undefined;
	for (const [camel, snake, k] of VALUE_FIELDS) {
		const v = raw[camel] ?? raw[snake];
		if (v === undefined || v === null) continue;
		kind = k;
		value = checkValue(key, k, v as JsonValue);
		break;
	}
	const variant = raw.variant ?? "";
	const reason = raw.reason ?? StandardResolutionReasons.UNKNOWN;
	if (typeof variant !== "string" || typeof reason !== "string") {
		throw malformed(`flag "${key}" has a non-string variant or reason`);
	}
	return Object.freeze({
		kind,
		value,
		variant,
		reason,
		flagMetadata: toFlagMetadata(raw.metadata),
	});
}

function checkValue(key: string, kind: FlagKind, v: JsonValue): FlagValue {
	if (kind === "number") {
		// protojson writes non-finite doubles as strings.
		const n = typeof v === "string" ? Number(v) : v;
		if (typeof n === "number" && !Number.isNaN(n)) return n;
	} else if (kind === "object") {
		if (isObject(v) || Array.isArray(v)) return copyValue(v) as FlagValue;
	} else if (typeof v === kind) {
		return v as FlagValue;
	}
	throw malformed(`flag "${key}" has a ${kind} value of the wrong JSON type`);
}

/** Spec 2.2.10: flag metadata is a flat map of string, number or boolean; other values are left out. */
function toFlagMetadata(raw: unknown): FlagMetadata {
	const out: Record<string, string | number | boolean> = {};
	if (!isObject(raw)) return Object.freeze(out);
	for (const key of Object.keys(raw)) {
		const v = raw[key];
		if (
			typeof v === "string" ||
			typeof v === "number" ||
			typeof v === "boolean"
		) {
			define(out, key, v);
		}
	}
	return Object.freeze(out);
}

/** Deep copy that keeps `__proto__` an ordinary own key (plain assignment would replace the prototype). */
function copyValue(v: unknown): unknown {
	if (Array.isArray(v)) return v.map(copyValue);
	if (!isObject(v)) return v;
	const out: Record<string, unknown> = {};
	for (const key of Object.keys(v)) define(out, key, copyValue(v[key]));
	return out;
}

function define(target: object, key: string, value: unknown): void {
	Object.defineProperty(target, key, {
		value,
		enumerable: true,
		writable: true,
		configurable: true,
	});
}

function sameFlag(a: SnapshotFlag, b: SnapshotFlag): boolean {
	return (
		a.kind === b.kind &&
		a.variant === b.variant &&
		a.reason === b.reason &&
		JSON.stringify(a.value) === JSON.stringify(b.value) &&
		JSON.stringify(a.flagMetadata) === JSON.stringify(b.flagMetadata)
	);
}

function isObject(v: unknown): v is Record<string, unknown> {
	return v !== null && typeof v === "object" && !Array.isArray(v);
}

function malformed(what: string): FlagdWebError {
	return new FlagdWebError(
		`malformed ResolveAll response: ${what}`,
		"internal",
	);
}
