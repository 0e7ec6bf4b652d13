import {
	inlineEvaluatorRefs,
	MAX_INLINED_REF_NODES,
	MAX_INLINED_RULE_DEPTH,
	type RefExpansionBudget,
} from "./evaluator-refs.js";
import { flagSetIdOf, readFlagMetadata } from "./flag-metadata.js";
import { isJsonObject, nullPrototypeRecord } from "./json-guards.js";
import { findOperatorIssues, pointerSegment } from "./targeting-operators.js";
import type {
	FlagDefinition,
	FlagMetadata,
	JsonObject,
	JsonValue,
} from "./types.js";
import type { ValidationIssues } from "./validation-issues.js";

/** What reading one flag needs from the document. */
export interface FlagReadContext {
	readonly issues: ValidationIssues;
	readonly evaluators: ReadonlyMap<string, JsonValue>;
	readonly setMetadata: FlagMetadata;
	/** `$ref` inlining allowance of the whole document (shared by its flags). */
	readonly refBudget: RefExpansionBudget;
}

const FLAG_PROPERTIES: ReadonlySet<string> = new Set([
	"key",
	"state",
	"variants",
	"defaultVariant",
	"targeting",
	"metadata",
	// Written by a flagd sync server into every flag of `flag_configuration` (and `selector` by flagd < 0.12); a
	// daemon syncing from another one (fan-out) must take them without a warning. They carry nothing to evaluate.
	"source",
	"selector",
]);

function variantKind(value: JsonValue): string {
	if (value === null) return "null";
	if (Array.isArray(value)) return "array";
	return typeof value;
}

const NO_METADATA: FlagMetadata = Object.freeze(Object.create(null));

/** Reads `variants`: errors make the flag unusable; schema deviations are warnings. */
function readVariants(
	raw: unknown,
	path: string,
	key: string,
	issues: ValidationIssues,
): Record<string, JsonValue> | undefined {
	if (!isJsonObject(raw) || Object.keys(raw).length === 0) {
		issues.error(
			"INVALID_VARIANTS",
			`${path}/variants`,
			"variants must be an object with at least one variant",
			key,
		);
		return undefined;
	}
	const kinds = new Set<string>();
	const entries = Object.entries(raw);
	for (const [name, value] of entries) {
		const kind = variantKind(value);
		if (kind === "array" || kind === "null") {
			issues.warn(
				"INVALID_VARIANTS",
				`${path}/variants/${pointerSegment(name)}`,
				`variant "${name}" is ${kind}; the schema allows boolean, string, number or object`,
				key,
			);
		}
		kinds.add(kind);
	}
	if (kinds.size > 1) {
		issues.warn(
			"MIXED_VARIANT_TYPES",
			`${path}/variants`,
			`variants mix types (${[...kinds].sort().join(", ")}); the schema wants one type per flag`,
			key,
		);
	}
	return nullPrototypeRecord(entries);
}

/** Reads `defaultVariant`: absent, null or "" mean the code default; a name not in `variants` is an error. */
function readDefaultVariant(
	raw: unknown,
	variants: Record<string, JsonValue>,
	path: string,
	key: string,
	issues: ValidationIssues,
): string | null | undefined {
	if (raw === undefined || raw === null || raw === "") return null;
	if (typeof raw !== "string") {
		issues.error(
			"UNKNOWN_DEFAULT_VARIANT",
			`${path}/defaultVariant`,
			"defaultVariant must be a string naming a variant, or null",
			key,
		);
		return undefined;
	}
	if (!Object.hasOwn(variants, raw)) {
		issues.error(
			"UNKNOWN_DEFAULT_VARIANT",
			`${path}/defaultVariant`,
			`defaultVariant "${raw}" is not one of the variants (${Object.keys(variants).join(", ")})`,
			key,
		);
		return undefined;
	}
	return raw;
}

/** Reads `targeting`: inlines `$ref`s and reports unknown references and operators with their paths. */
function readTargeting(
	raw: unknown,
	path: string,
	key: string,
	ctx: FlagReadContext,
): JsonValue | undefined {
	if (raw === undefined || raw === null) return undefined;
	if (isJsonObject(raw) && Object.keys(raw).length === 0) return undefined;
	const base = `${path}/targeting`;
	if (!isJsonObject(raw)) {
		ctx.issues.warn(
			"INVALID_TARGETING",
			base,
			"targeting should be a JsonLogic object; a literal is returned as is",
			key,
		);
	}
	const { rule, unresolved, overflow } = inlineEvaluatorRefs(
		raw as JsonValue,
		ctx.evaluators,
		ctx.refBudget,
	);
	if (overflow !== undefined) {
		// One error for the node budget (it is shared, so every later flag would hit it too); each too-deep rule.
		if (overflow.kind === "depth" || !ctx.refBudget.overflowReported) {
			ctx.issues.error(
				"EVALUATOR_REF_EXPANSION",
				`${base}${overflow.pointer}`,
				overflow.kind === "nodes"
					? `inlining $evaluators references would copy more than ${MAX_INLINED_REF_NODES} JSON nodes into the document's rules (evaluators referencing each other repeatedly grow exponentially); the document is rejected`
					: `inlining $ref evaluators nests this rule deeper than ${MAX_INLINED_RULE_DEPTH} levels; the document is rejected`,
				// The node budget is the document's, not this flag's: every later flag with a reference would be cut
				// short too, so the whole document is refused (no flag key) and the last good one kept.
				overflow.kind === "nodes" ? undefined : key,
			);
		}
		if (overflow.kind === "nodes") ctx.refBudget.overflowReported = true;
		return undefined;
	}
	for (const ref of unresolved) {
		ctx.issues.warn(
			"UNKNOWN_EVALUATOR_REF",
			`${base}${ref.pointer}`,
			`$ref "${ref.name}" names no entry of $evaluators (or is circular); evaluating this flag returns PARSE_ERROR`,
			key,
		);
	}
	for (const issue of findOperatorIssues(rule)) {
		if (issue.operator === "$ref") continue;
		ctx.issues.warn(
			"UNKNOWN_OPERATOR",
			`${base}${issue.pointer}`,
			`${issue.message}; evaluating this flag returns PARSE_ERROR`,
			key,
		);
	}
	return rule;
}

/** Reads one flag. Returns `undefined` (with errors recorded) when the flag cannot be used. */
export function readFlagDefinition(
	key: string,
	raw: unknown,
	path: string,
	ctx: FlagReadContext,
): FlagDefinition | undefined {
	const { issues } = ctx;
	if (!isJsonObject(raw)) {
		issues.error("INVALID_FLAG", path, "a flag must be an object", key);
		return undefined;
	}
	const flag: JsonObject = raw;
	for (const property of Object.keys(flag)) {
		if (!FLAG_PROPERTIES.has(property)) {
			issues.warn(
				"UNKNOWN_PROPERTY",
				`${path}/${pointerSegment(property)}`,
				`unknown flag property "${property}"`,
				key,
			);
		}
	}
	const state = flag.state;
	if (state !== "ENABLED" && state !== "DISABLED") {
		issues.error(
			"INVALID_STATE",
			`${path}/state`,
			`state must be "ENABLED" or "DISABLED", got ${JSON.stringify(state) ?? "nothing"}`,
			key,
		);
	}
	const variants = readVariants(flag.variants, path, key, issues);
	const defaultVariant =
		variants === undefined
			? undefined
			: readDefaultVariant(flag.defaultVariant, variants, path, key, issues);
	const targeting = readTargeting(flag.targeting, path, key, ctx);
	const ownMetadata = readFlagMetadata(
		flag.metadata,
		`${path}/metadata`,
		issues,
		key,
	);
	if (
		ownMetadata.flagSetId !== undefined &&
		typeof ownMetadata.flagSetId !== "string"
	) {
		issues.warn(
			"INVALID_METADATA",
			`${path}/metadata/flagSetId`,
			"flagSetId must be a string; it is ignored",
			key,
		);
	}
	if (
		(state !== "ENABLED" && state !== "DISABLED") ||
		variants === undefined ||
		defaultVariant === undefined
	) {
		return undefined;
	}
	const metadataEntries = [
		...Object.entries(ctx.setMetadata),
		...Object.entries(ownMetadata),
	];
	// Most flags have none: they share one frozen empty record.
	const metadata: FlagMetadata =
		metadataEntries.length === 0
			? NO_METADATA
			: nullPrototypeRecord(metadataEntries);
	return {
		key,
		state,
		variants,
		defaultVariant,
		targeting,
		metadata,
		flagSetId: flagSetIdOf(ownMetadata) ?? flagSetIdOf(ctx.setMetadata),
	};
}
