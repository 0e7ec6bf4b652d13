/**
 * Go `time.ParseDuration` syntax (`300ms`, `30s`, `1m30s`, `1.5h`, `0`) converted once, here at the config boundary,
 * to whole milliseconds (C5). A plain number is taken as milliseconds, our unit (viper would read it as
 * nanoseconds, which no one means for these options).
 */

const UNIT_MS: Readonly<Record<string, number>> = {
	ns: 1e-6,
	us: 1e-3,
	µs: 1e-3,
	μs: 1e-3,
	ms: 1,
	s: 1000,
	m: 60_000,
	h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00B5s|\u03BCs|ms|s|m|h)/y;

/** Returns the duration in ms, or undefined when the text is not a non-negative duration. */
export function parseDurationMs(text: string): number | undefined {
	const trimmed = text.trim();
	if (/^\d+$/.test(trimmed)) return Number(trimmed);
	if (trimmed === "" || trimmed.startsWith("-")) return undefined;
	const body = trimmed.startsWith("+") ? trimmed.slice(1) : trimmed;
	let total = 0;
	PART.lastIndex = 0;
	while (PART.lastIndex < body.length) {
		const match = PART.exec(body);
		if (match === null) return undefined;
		total += Number(match[1]) * (UNIT_MS[match[2] as string] ?? Number.NaN);
	}
	if (!Number.isFinite(total) || body === "") return undefined;
	// Round to whole ms, but keep a tiny non-zero duration non-zero: 0 means "no deadline" to the daemon.
	return total > 0 ? Math.max(1, Math.round(total)) : 0;
}

/** Renders ms the way flagd prints durations (`30s`, `1m30s`, `1h`, `250ms`, `0s`), for help text and logs. */
export function formatDurationMs(ms: number): string {
	if (ms === 0) return "0s";
	if (ms < 1000) return `${ms}ms`;
	const hours = Math.floor(ms / 3_600_000);
	const minutes = Math.floor((ms % 3_600_000) / 60_000);
	const seconds = (ms % 60_000) / 1000;
	return `${hours > 0 ? `${hours}h` : ""}${minutes > 0 ? `${minutes}m` : ""}${seconds > 0 ? `${seconds}s` : ""}`;
}
