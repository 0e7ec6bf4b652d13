/**
 * The open-feature-operator FeatureFlag custom resource as this source reads it: only `metadata` and
 * `spec.flagSpec` matter. `flagSpec` is serialised to the flagd document JSON, as Go flagd does.
 */
export const FEATURE_FLAG_GROUP = "core.openfeature.dev";
export const FEATURE_FLAG_VERSION = "v1beta1";
export const FEATURE_FLAG_PLURAL = "featureflags";

export interface FeatureFlagRef {
	readonly namespace: string;
	readonly name: string;
}

/** `ns/name` or `core.openfeature.dev/ns/name` → reference; undefined when malformed. */
export function parseFeatureFlagRef(uri: string): FeatureFlagRef | undefined {
	const match = /^(?:core\.openfeature\.dev\/)?([^/]+)\/([^/]+)$/.exec(uri);
	if (match === null) return undefined;
	return { namespace: match[1] ?? "", name: match[2] ?? "" };
}

/** The list/watch path of FeatureFlags in a namespace. */
export function featureFlagCollectionPath(namespace: string): string {
	return `/apis/${FEATURE_FLAG_GROUP}/${FEATURE_FLAG_VERSION}/namespaces/${encodeURIComponent(namespace)}/${FEATURE_FLAG_PLURAL}`;
}

/** `spec.flagSpec` as JSON text, or a reason why the object has none. */
export function flagSpecJson(
	resource: unknown,
): { json: string } | { reason: string } {
	const spec = (resource as { spec?: { flagSpec?: unknown } } | null)?.spec;
	const flagSpec = spec?.flagSpec;
	if (
		typeof flagSpec !== "object" ||
		flagSpec === null ||
		Array.isArray(flagSpec)
	)
		return { reason: "FeatureFlag has no spec.flagSpec object" };
	return { json: JSON.stringify(flagSpec) };
}

export function resourceVersionOf(resource: unknown): string | undefined {
	const version = (
		resource as { metadata?: { resourceVersion?: unknown } } | null
	)?.metadata?.resourceVersion;
	return typeof version === "string" ? version : undefined;
}
