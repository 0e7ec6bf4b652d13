/**
 * Child of pause-optimizer.test.ts (run with `node --allow-natives-syntax --import tsx`): makes a function hot
 * before any pause (the control: that much work gets it optimized), another one while TurboFan is paused and again
 * after the resume, and prints whether V8 optimized them.
 */
import { setImmediate as tick } from "node:timers/promises";
import { pauseOptimizer, resumeOptimizer } from "../pause-optimizer.js";

// V8's %GetOptimizationStatus (natives syntax, so built at run time); bit 4 = optimized code.
const status = new Function("f", "return %GetOptimizationStatus(f);") as (
	f: unknown,
) => number;
const OPTIMIZED = 1 << 4;

/** A fresh function with the shape of protobuf-es's hot start-up loops. */
function makeHot(): (text: string) => number {
	return new Function(
		"text",
		"let sum = 0; for (let i = 0; i < text.length; i++) sum = (sum * 31 + text.charCodeAt(i)) | 0; return sum;",
	) as (text: string) => number;
}

/**
 * Calls `hot` in rounds until it is optimized or `rounds` rounds passed (awaiting between rounds, for concurrent
 * compile jobs); returns the rounds it took, or undefined.
 */
async function heat(
	hot: (text: string) => number,
	rounds: number,
): Promise<number | undefined> {
	const text = "protoCamelCase_base64Decode".repeat(40);
	for (let round = 1; round <= rounds; round++) {
		for (let i = 0; i < 2_000; i++) hot(text);
		await tick();
		if ((status(hot) & OPTIMIZED) !== 0) return round;
	}
	return undefined;
}

const MAX_ROUNDS = 200;
const controlRounds = await heat(makeHot(), MAX_ROUNDS);
const hot = makeHot();
const pausedNow = pauseOptimizer();
// At least three times the work that got the control optimized.
const whilePaused = await heat(
	hot,
	Math.max(10, 3 * (controlRounds ?? MAX_ROUNDS)),
);
resumeOptimizer();
const afterResume = await heat(hot, MAX_ROUNDS);
process.stdout.write(
	`${JSON.stringify({ controlRounds, pausedNow, whilePaused, afterResume })}\n`,
);
