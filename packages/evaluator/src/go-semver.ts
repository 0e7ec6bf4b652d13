/**
 * A parser and comparator with the semantics of Go's `golang.org/x/mod/semver`, which flagd's `sem_ver` uses.
 * npm `semver` differs (no `v` prefix, no shorthand `v1`/`v1.2`, different loose parsing), so this is its own
 * small module. Numbers are kept as decimal strings, so arbitrarily long components compare exactly, as in Go.
 */

/** A parsed Go semantic version. `major`/`minor`/`patch` are canonical decimal strings without leading zeros. */
export interface GoSemver {
	readonly major: string;
	readonly minor: string;
	readonly patch: string;
	/** Pre-release including the leading `-`, or `""`. */
	readonly prerelease: string;
	/** Build metadata including the leading `+`, or `""`; ignored by comparisons. */
	readonly build: string;
}

const DIGIT_0 = 48;
const DIGIT_9 = 57;

function isDigit(code: number): boolean {
	return code >= DIGIT_0 && code <= DIGIT_9;
}

function isIdentChar(code: number): boolean {
	return (
		isDigit(code) ||
		(code >= 65 && code <= 90) ||
		(code >= 97 && code <= 122) ||
		code === 45
	);
}

/** Reads a number component at `start`; `undefined` when absent or with a leading zero (Go rejects `v01`). */
function readNumber(
	text: string,
	start: number,
): { value: string; end: number } | undefined {
	let end = start;
	while (end < text.length && isDigit(text.charCodeAt(end))) end++;
	if (end === start) return undefined;
	if (text.charCodeAt(start) === DIGIT_0 && end - start > 1) return undefined;
	return { value: text.slice(start, end), end };
}

/** Validates dot-separated identifiers; pre-release numeric identifiers may not have leading zeros. */
function isValidIdentifiers(body: string, isPrerelease: boolean): boolean {
	if (body.length === 0) return false;
	for (const ident of body.split(".")) {
		if (ident.length === 0) return false;
		let numeric = true;
		for (let i = 0; i < ident.length; i++) {
			const code = ident.charCodeAt(i);
			if (!isIdentChar(code)) return false;
			if (!isDigit(code)) numeric = false;
		}
		if (
			isPrerelease &&
			numeric &&
			ident.length > 1 &&
			ident.charCodeAt(0) === DIGIT_0
		) {
			return false;
		}
	}
	return true;
}

/** Parses the optional `-prerelease` and `+build` tail of a full `vX.Y.Z` version. */
function parseTail(
	text: string,
	start: number,
): { prerelease: string; build: string } | undefined {
	let rest = text.slice(start);
	let prerelease = "";
	let build = "";
	if (rest.startsWith("-")) {
		const plus = rest.indexOf("+");
		prerelease = plus === -1 ? rest : rest.slice(0, plus);
		if (!isValidIdentifiers(prerelease.slice(1), true)) return undefined;
		rest = plus === -1 ? "" : rest.slice(plus);
	}
	if (rest.startsWith("+")) {
		build = rest;
		if (!isValidIdentifiers(build.slice(1), false)) return undefined;
		rest = "";
	}
	return rest.length === 0 ? { prerelease, build } : undefined;
}

/**
 * Parses a Go semantic version (`v1`, `v1.2`, `v1.2.3`, `v1.2.3-pre.1+build`). Shorthands fill the missing parts
 * with `0` and cannot carry a pre-release or build suffix (as in Go). Returns `undefined` when invalid.
 */
export function parseGoSemver(text: string): GoSemver | undefined {
	if (text.charCodeAt(0) !== 118 /* v */) return undefined;
	const major = readNumber(text, 1);
	if (major === undefined) return undefined;
	if (major.end === text.length) {
		return {
			major: major.value,
			minor: "0",
			patch: "0",
			prerelease: "",
			build: "",
		};
	}
	if (text.charCodeAt(major.end) !== 46 /* . */) return undefined;
	const minor = readNumber(text, major.end + 1);
	if (minor === undefined) return undefined;
	if (minor.end === text.length) {
		return {
			major: major.value,
			minor: minor.value,
			patch: "0",
			prerelease: "",
			build: "",
		};
	}
	if (text.charCodeAt(minor.end) !== 46) return undefined;
	const patch = readNumber(text, minor.end + 1);
	if (patch === undefined) return undefined;
	const tail = parseTail(text, patch.end);
	if (tail === undefined) return undefined;
	return {
		major: major.value,
		minor: minor.value,
		patch: patch.value,
		prerelease: tail.prerelease,
		build: tail.build,
	};
}

/** Compares two canonical decimal strings numerically (by length first, as they have no leading zeros). */
function compareDecimal(a: string, b: string): number {
	if (a.length !== b.length) return a.length < b.length ? -1 : 1;
	if (a === b) return 0;
	return a < b ? -1 : 1;
}

function isNumericIdent(ident: string): boolean {
	for (let i = 0; i < ident.length; i++) {
		if (!isDigit(ident.charCodeAt(i))) return false;
	}
	return true;
}

/** Semver §11 pre-release precedence; `""` (a release) ranks above any pre-release. */
function comparePrerelease(a: string, b: string): number {
	if (a === b) return 0;
	if (a === "") return 1;
	if (b === "") return -1;
	const left = a.slice(1).split(".");
	const right = b.slice(1).split(".");
	const n = Math.min(left.length, right.length);
	for (let i = 0; i < n; i++) {
		const x = left[i] as string;
		const y = right[i] as string;
		if (x === y) continue;
		const xNum = isNumericIdent(x);
		const yNum = isNumericIdent(y);
		if (xNum && yNum) return compareDecimal(x, y);
		if (xNum) return -1;
		if (yNum) return 1;
		return x < y ? -1 : 1;
	}
	if (left.length === right.length) return 0;
	return left.length < right.length ? -1 : 1;
}

/** Compares by semver precedence (build metadata ignored): -1, 0 or 1. */
export function compareGoSemver(a: GoSemver, b: GoSemver): number {
	return (
		compareDecimal(a.major, b.major) ||
		compareDecimal(a.minor, b.minor) ||
		compareDecimal(a.patch, b.patch) ||
		comparePrerelease(a.prerelease, b.prerelease)
	);
}
