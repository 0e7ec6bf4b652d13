/**
 * The one polling wait of the tests: for a condition that has no event to await (a counter in another module, a
 * metric, a file on disk). A timeout is a failure, never the expected outcome, so it is generous: waiting longer
 * only slows a test that fails anyway, while a tight bound fails on a busy machine.
 */

/** Polls `condition` every 5 ms until it holds; fails after `timeoutMs`, naming `what`. */
export async function waitFor(
	condition: () => boolean | Promise<boolean>,
	timeoutMs = 5_000,
	what = "condition",
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await condition())) {
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
}
