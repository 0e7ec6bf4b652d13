/**
 * Which way targeting rules run. Apart from the engines (targeting-engine.ts) because it is a question about the
 * runtime, not about a rule: whether it lets code be generated, probed once per module instance.
 */

/** How targeting rules run: generated functions (fastest) or interpreted closures (no code generation). */
export type TargetingMode = "compiled" | "interpreted";

let codeGeneration: boolean | undefined;

/**
 * Whether this runtime lets code be generated at run time (`new Function`; json-logic-engine's compiled mode uses
 * `eval`, which the same policies forbid). Cloudflare Workers, Vercel Edge and pages with a strict CSP do not.
 * Probed once.
 */
export function codeGenerationAvailable(): boolean {
	if (codeGeneration === undefined) {
		try {
			// The same policy (CSP 'unsafe-eval', the Workers and Edge isolates) governs `eval`, which the engine uses.
			codeGeneration = new Function("return 1")() === 1;
		} catch {
			codeGeneration = false;
		}
	}
	return codeGeneration;
}

/** The mode used when none is asked for: compiled where code generation is available, else interpreted. */
export function defaultTargetingMode(): TargetingMode {
	return codeGenerationAvailable() ? "compiled" : "interpreted";
}
