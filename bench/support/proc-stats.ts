/**
 * Resource figures of another process read from /proc (Linux only), so the daemon under test needs no debug
 * endpoint: resident set size from /proc/<pid>/status and open descriptors (sockets, files, timers' eventfds,
 * pipes) counted in /proc/<pid>/fd, which is how the soak benchmark sees leaked handles from outside.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** VmRSS of `pid` in bytes. Throws when the process is gone or /proc is unavailable. */
export function readRssBytes(pid: number): number {
	return readStatusKb(pid, "VmRSS") * 1024;
}

/** VmHWM (peak resident set size) of `pid` in bytes. */
export function readPeakRssBytes(pid: number): number {
	return readStatusKb(pid, "VmHWM") * 1024;
}

function readStatusKb(pid: number, field: string): number {
	const status = readFileSync(`/proc/${pid}/status`, "utf8");
	const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(status);
	if (match === null || match[1] === undefined)
		throw new Error(`no ${field} line in /proc/${pid}/status`);
	return Number(match[1]);
}

/** Number of open file descriptors of `pid`. */
export function countOpenFds(pid: number): number {
	return readdirSync(`/proc/${pid}/fd`).length;
}

/** Describes the open descriptors by kind (socket, pipe, anon_inode:[eventfd], file), for leak reports. */
export function describeOpenFds(pid: number): Record<string, number> {
	const kinds: Record<string, number> = Object.create(null) as Record<
		string,
		number
	>;
	for (const fd of readdirSync(`/proc/${pid}/fd`)) {
		let target: string;
		try {
			target = readlinkSync(`/proc/${pid}/fd/${fd}`);
		} catch {
			// Expected race, not an error: the descriptor closed between readdir and readlink: nothing to count.
			continue;
		}
		const kind = target.startsWith("/")
			? "file"
			: target.replace(/:\[?\d+\]?$/, "");
		kinds[kind] = (kinds[kind] ?? 0) + 1;
	}
	return kinds;
}

/** The 1-minute load average, for the report (the machine is shared). */
export function loadAverage1m(): number {
	const [one] = readFileSync("/proc/loadavg", "utf8").split(" ");
	return Number(one);
}

/** CPU time (user + system) `pid` has used so far, in ms (from /proc/<pid>/stat; 10 ms resolution at 100 Hz). */
export function readCpuTimeMs(pid: number): number {
	const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
	// Fields after the parenthesised command name, which may itself contain spaces.
	const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
	const utime = Number(fields[11]);
	const stime = Number(fields[12]);
	return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ; 100 on every Linux configuration Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;
