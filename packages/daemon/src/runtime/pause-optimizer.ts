/**
 * The `flagd` command loads the daemon's modules with V8's optimizing compiler (TurboFan) paused, and resumes it
 * before any flag is loaded or request served (a product decision, measured in docs/performance.md "Memory").
 *
 * Why: loading the modules runs code exactly once, yet protobuf-es's start-up is loop-heavy enough for TurboFan:
 * hydrating the embedded descriptors (descriptor.proto's boot, then every generated file) calls `protoCamelCase`
 * ~670 times and `base64Decode` over ~12,000 characters. Optimizing those buys nothing, and the first TurboFan
 * compilation of a process costs an idle daemon ~4.5 MiB for good: ~3.5 MiB of the node binary's optimizing
 * compiler paged in, plus its compile zones left in a worker thread's malloc arena. Code that gets hot later
 * (request handling) is optimized as usual: the pause covers module loading only.
 *
 * Why this is safe (Node documents runtime flag changes as possibly unpredictable): `--turbofan` is not a
 * set-up-time flag. V8 consults it each time its tiering manager decides whether to optimize a hot function, so
 * while it is off functions keep running in the interpreter and baseline code (V8's `--no-turbofan` mode, a
 * supported configuration); nothing compiled is discarded, and turning it back on restores the default, so later
 * decisions are the ordinary ones (pause-optimizer.test.ts checks a hot function is optimized after the resume).
 * Node keeps V8's flags writable after start (the young-generation cap relies on the same, young-generation.ts).
 * The pause is lifted in a `finally`, whatever the import does; only the CLI pauses (startDaemon() embedded in an
 * application leaves the process's V8 alone); and an operator whose node flags decide about the optimizer
 * (execArgv or NODE_OPTIONS: `--jitless`, `--no-turbofan`, `--max-opt=…`, any `--turbo…` or `--maglev…`) keeps
 * exactly those: nothing is paused.
 */
import { setFlagsFromString } from "node:v8";

/** Node/V8 flags that decide about the optimizing tiers: when one is given, the operator decides. */
const OPTIMIZER_FLAGS =
	/(?:^|\s)--(?:no-)?(?:turbo[a-z-]*|opt|always-opt|always-turbofan|jitless|maglev[a-z-]*|max-opt|interrupt-budget[a-z-]*)(?:[=\s]|$)/;

let paused = false;

/**
 * Pauses TurboFan unless `execArgv` or `nodeOptions` decide about the optimizer. Returns whether it did. Call at the
 * CLI's start, before the daemon's modules load; {@link resumeOptimizer} lifts it.
 */
export function pauseOptimizer(
	execArgv: readonly string[] = process.execArgv,
	nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): boolean {
	const given = `${execArgv.join(" ")} ${nodeOptions ?? ""}`.replaceAll(
		"_",
		"-",
	);
	if (paused || OPTIMIZER_FLAGS.test(given)) return false;
	setFlagsFromString("--no-turbofan");
	paused = true;
	return true;
}

/** Lifts {@link pauseOptimizer}'s pause (V8's default again); a no-op when nothing was paused. */
export function resumeOptimizer(): void {
	if (!paused) return;
	setFlagsFromString("--turbofan");
	paused = false;
}
