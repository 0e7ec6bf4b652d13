/**
 * Flag definitions several provider and runtime suites serve, each under the key its name says. Shared so that one
 * definition stands behind the answers those suites expect (a suite adds metadata or neighbours of its own by
 * spreading). Values only: a suite that changes a flag builds a new object, never edits these.
 */

/** `bool-flag`: true (variant `on`), no targeting. */
export const BOOL_FLAG = {
	state: "ENABLED",
	variants: { on: true, off: false },
	defaultVariant: "on",
} as const;

/** `object-flag`: `{ a: 1, nested: { b: [true, "x"] } }` (variant `obj`), no targeting. */
export const OBJECT_FLAG = {
	state: "ENABLED",
	variants: { obj: { a: 1, nested: { b: [true, "x"] } } },
	defaultVariant: "obj",
} as const;

/** `targeted-flag`: INTERNAL for an `email` ending in @example.com (TARGETING_MATCH), else EXTERNAL (DEFAULT). */
export const EMAIL_TARGETED_FLAG = {
	state: "ENABLED",
	variants: { internal: "INTERNAL", external: "EXTERNAL" },
	defaultVariant: "external",
	targeting: {
		if: [{ ends_with: [{ var: "email" }, "@example.com"] }, "internal", null],
	},
} as const;

/** `code-default-flag`: no default variant, so the caller's default answers (reason DEFAULT). */
export const CODE_DEFAULT_FLAG = {
	state: "ENABLED",
	variants: { on: true, off: false },
} as const;

/** `disabled-flag`: DISABLED, so the caller's default answers (reason DISABLED). */
export const DISABLED_FLAG = {
	state: "DISABLED",
	variants: { on: true, off: false },
	defaultVariant: "on",
} as const;
