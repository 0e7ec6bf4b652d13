/**
 * Child of young-generation-governor.test.ts: caps the young generation as `flagd` does, allocates with some
 * survival (as requests in flight do), and prints the largest semi-space capacity seen capped, then lifted by a
 * governor that sees a request rate over its line, then capped again (the cap holds growth; it does not shrink).
 * The work is counted in allocation rounds, not time.
 */
import { getHeapSpaceStatistics } from "node:v8";
import {
	capYoungGeneration,
	isYoungGenerationCapped,
} from "../young-generation.js";
import { YoungGenerationGovernor } from "../young-generation-governor.js";

const capped = capYoungGeneration([], undefined);

function newSpaceBytes(): number {
	return (
		getHeapSpaceStatistics().find((s) => s.space_name === "new_space")
			?.space_size ?? 0
	);
}

const inFlight: unknown[] = new Array(20_000);
let next = 0;
/** Allocates `rounds` × 1,000 objects of ~150 B, keeping the last 20,000 alive; returns the largest new space seen. */
function allocate(rounds: number): number {
	let largest = newSpaceBytes();
	for (let r = 0; r < rounds; r++) {
		for (let k = 0; k < 1_000; k++) {
			inFlight[next++ % inFlight.length] = {
				n: next,
				values: [next, next + 1, next + 2, next + 3],
				text: `request ${next}`,
			};
		}
		largest = Math.max(largest, newSpaceBytes());
	}
	return largest;
}

let requests = 0;
let clock = 0;
const governor = new YoungGenerationGovernor({
	requestCount: () => requests,
	now: () => clock,
	intervalMs: 3_600_000, // read by hand below
	sustainIntervals: 1,
});
const atStart = newSpaceBytes();
const whileCapped = allocate(3_000);
requests += 5_000;
clock += 1_000;
governor.read();
const liftedNow = governor.lifted;
const whileLifted = allocate(3_000);
governor.stop();
process.stdout.write(
	JSON.stringify({
		capped,
		cappedFlag: isYoungGenerationCapped(),
		liftedNow,
		atStart,
		whileCapped,
		whileLifted,
		restored: !governor.lifted,
	}),
);
