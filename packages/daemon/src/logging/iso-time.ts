/**
 * The log records' ISO-8601 UTC time, as `Date.prototype.toISOString` writes it, built from the UTC getters.
 *
 * Why not toISOString: on Node 20 (V8 11.3) every toISOString call also asks ICU for the local time zone and its
 * display name, although the result is UTC. The first log line thereby loads ICU's time-zone and locale data and
 * builds its name tables: about 1 MiB of resident memory in a daemon that never needs local time. The UTC getters
 * read no time-zone data.
 */

function pad2(n: number): string {
	return n < 10 ? `0${n}` : String(n);
}

function pad3(n: number): string {
	return n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n);
}

/** `epochMs` as toISOString writes it (`2026-12-04T16:20:00.000Z`); years outside 0–9999 go to toISOString. */
export function isoTime(epochMs: number): string {
	const date = new Date(epochMs);
	const year = date.getUTCFullYear();
	// toISOString writes ±YYYYYY for these (and throws for an invalid date): leave them to it.
	if (!(year >= 0 && year <= 9999)) return date.toISOString();
	const yyyy =
		year < 10
			? `000${year}`
			: year < 100
				? `00${year}`
				: year < 1000
					? `0${year}`
					: String(year);
	return `${yyyy}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}T${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}.${pad3(date.getUTCMilliseconds())}Z`;
}

/** pino's `timestamp` option: the `time` field of every record (what pino.stdTimeFunctions.isoTime writes). */
export function isoTimeField(): string {
	return `,"time":"${isoTime(Date.now())}"`;
}
