/**
 * Bundled into the runtime next to the example handler: answers whether the isolate allows code generation from
 * strings, so a test proves the provider ran where `eval`/`new Function` are forbidden.
 */
export const CODEGEN_PROBE_PATH = "/__probe/codegen";

export function codeGenerationProbe(): Response {
	try {
		const generated = new Function("return 1") as () => number;
		return Response.json({ codeGeneration: "allowed", result: generated() });
	} catch (err: unknown) {
		return Response.json({ codeGeneration: "blocked", message: String(err) });
	}
}
