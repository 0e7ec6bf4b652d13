/** "Did you mean" for mistyped option names: the closest known name within a small edit distance. */
export function suggestName(
	typed: string,
	known: readonly string[],
): string | undefined {
	let best: string | undefined;
	let bestDistance = Math.max(2, Math.floor(typed.length / 3)) + 1;
	for (const name of known) {
		const distance = editDistance(typed.toLowerCase(), name);
		if (distance < bestDistance) {
			best = name;
			bestDistance = distance;
		}
	}
	return best;
}

function editDistance(a: string, b: string): number {
	let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
	for (let i = 1; i <= a.length; i++) {
		const current = [i];
		for (let j = 1; j <= b.length; j++) {
			const substitution =
				(previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
			current.push(
				Math.min(
					(previous[j] ?? 0) + 1,
					(current[j - 1] ?? 0) + 1,
					substitution,
				),
			);
		}
		previous = current;
	}
	return previous[b.length] ?? 0;
}
