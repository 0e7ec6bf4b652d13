/**
 * How deeply a parsed JSON value nests, bounded: evaluation contexts are walked recursively downstream (context
 * building, JsonLogic `var` lookups, rendering), so a request nested thousands of levels deep is refused up front
 * with a clear message. 100 levels is where protobuf JSON parsing (the Connect and gRPC APIs) stops too.
 */

/** Deepest nesting a request's evaluation context may have. */
export const MAX_CONTEXT_DEPTH = 100;

/** True when `value` nests objects/arrays more than `maxDepth` levels deep (a scalar is depth 0). Iterative. */
export function exceedsJsonDepth(value: unknown, maxDepth: number): boolean {
	const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
	for (;;) {
		const next = stack.pop();
		if (next === undefined) return false;
		if (next.value === null || typeof next.value !== "object") continue;
		const depth = next.depth + 1;
		if (depth > maxDepth) return true;
		const children = Array.isArray(next.value)
			? next.value
			: Object.values(next.value);
		for (const child of children) {
			if (child !== null && typeof child === "object")
				stack.push({ value: child, depth });
		}
	}
}
