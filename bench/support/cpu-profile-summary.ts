/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function (top frames) and per module
 * (our packages, each node_modules package, Node internals), as the share of non-idle samples. Used to name the
 * bottleneck when a throughput target is missed.
 *
 * Frames inside an esbuild bundle (the benchmarks run the daemon bundled, as it ships) are mapped back to their
 * source file through the `// path/to/module.ts` comment esbuild writes before each module in unminified output.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Per bundle file: the first line (0-based) of each module and its source path, ascending. */
const bundleMaps = new Map<string, { line: number; source: string }[] | null>();

function bundleMap(url: string): { line: number; source: string }[] | null {
	const cached = bundleMaps.get(url);
	if (cached !== undefined) return cached;
	let map: { line: number; source: string }[] | null = null;
	if (url.startsWith("file://") && url.endsWith(".mjs")) {
		const file = fileURLToPath(url);
		if (existsSync(file)) {
			const markers: { line: number; source: string }[] = [];
			for (const [line, text] of readFileSync(file, "utf8")
				.split("\n")
				.entries()) {
				const match =
					/^\/\/ ((?:\.\.\/)*(?:node_modules|packages|bench)\/\S+\.[cm]?[jt]s)$/.exec(
						text,
					);
				if (match?.[1] !== undefined)
					markers.push({ line, source: match[1].replace(/^(\.\.\/)+/, "") });
			}
			if (markers.length > 0) map = markers;
		}
	}
	bundleMaps.set(url, map);
	return map;
}

/**
 * The source file and line of a frame, through the bundle map when the url is a bundle. Lines inside a bundled
 * module are not the source's lines, so they are dropped (-1) there.
 */
function locate(
	url: string,
	lineNumber: number,
): { url: string; line: number } {
	const map = bundleMap(url);
	if (map === null) return { url, line: lineNumber };
	let found: { line: number; source: string } | undefined;
	for (const marker of map) {
		if (marker.line > lineNumber) break;
		found = marker;
	}
	return found === undefined
		? { url, line: lineNumber }
		: { url: found.source, line: -1 };
}

interface ProfileNode {
	readonly id: number;
	readonly callFrame: {
		readonly functionName: string;
		readonly url: string;
		readonly lineNumber: number;
	};
	readonly hitCount?: number;
}

interface CpuProfile {
	readonly nodes: readonly ProfileNode[];
	readonly samples?: readonly number[];
	/** µs before each sample. */
	readonly timeDeltas?: readonly number[];
	readonly startTime?: number;
	readonly endTime?: number;
}

export interface ProfileFrame {
	readonly name: string;
	readonly where: string;
	readonly selfPercent: number;
}

export interface ProfileSummary {
	readonly samples: number;
	/** CPU time of the non-idle samples (ms). */
	readonly busyMs: number;
	/** Profile duration (ms). */
	readonly wallMs: number;
	readonly topFrames: readonly ProfileFrame[];
	readonly byModule: readonly {
		readonly module: string;
		readonly selfPercent: number;
	}[];
}

/** The module a frame belongs to: one of our packages, an npm package, Node internals, or V8 (`(…)`). */
export function moduleOf(url: string, functionName: string): string {
	if (url === "")
		return functionName.startsWith("(") ? functionName : "(native)";
	if (url.startsWith("node:")) return "node internals";
	const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
	if (nm?.[1] !== undefined) return nm[1];
	const pkg = /packages\/([^/]+)\//.exec(url);
	if (pkg?.[1] !== undefined) return `@flagd-ts/${pkg[1]}`;
	return "other";
}

/** A frame's url from `node_modules/` or `packages/` on. */
export function shortUrl(url: string): string {
	const nm = url.lastIndexOf("node_modules/");
	if (nm >= 0) return url.slice(nm + "node_modules/".length);
	const pkg = url.indexOf("packages/");
	if (pkg >= 0) return url.slice(pkg);
	return url.replace(/^file:\/\//, "");
}

/** Reads and summarises one profile; `top` frames are returned. */
export function summarizeCpuProfile(file: string, top = 12): ProfileSummary {
	const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
	const hits = new Map<number, number>();
	if (profile.samples !== undefined) {
		for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
	} else {
		for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
	}
	const frames = new Map<
		string,
		{ name: string; where: string; hits: number }
	>();
	const modules = new Map<string, number>();
	let total = 0;
	for (const node of profile.nodes) {
		const count = hits.get(node.id) ?? 0;
		const { functionName } = node.callFrame;
		const { url, line: lineNumber } = locate(
			node.callFrame.url,
			node.callFrame.lineNumber,
		);
		if (count === 0 || functionName === "(idle)") continue;
		total += count;
		const name = functionName === "" ? "(anonymous)" : functionName;
		const where =
			url === ""
				? ""
				: lineNumber < 0
					? shortUrl(url)
					: `${shortUrl(url)}:${lineNumber + 1}`;
		const key = `${name}@${where}`;
		const frame = frames.get(key) ?? { name, where, hits: 0 };
		frame.hits += count;
		frames.set(key, frame);
		const mod = moduleOf(url, functionName);
		modules.set(mod, (modules.get(mod) ?? 0) + count);
	}
	const percent = (n: number): number => (total === 0 ? 0 : (100 * n) / total);
	const idle = new Set(
		profile.nodes
			.filter((n) => n.callFrame.functionName === "(idle)")
			.map((n) => n.id),
	);
	let busyUs = 0;
	const samples = profile.samples ?? [];
	for (const [i, id] of samples.entries())
		if (!idle.has(id)) busyUs += profile.timeDeltas?.[i] ?? 0;
	return {
		samples: total,
		busyMs: busyUs / 1000,
		wallMs: ((profile.endTime ?? 0) - (profile.startTime ?? 0)) / 1000,
		topFrames: [...frames.values()]
			.sort((a, b) => b.hits - a.hits)
			.slice(0, top)
			.map((f) => ({
				name: f.name,
				where: f.where,
				selfPercent: percent(f.hits),
			})),
		byModule: [...modules.entries()]
			.sort((a, b) => b[1] - a[1])
			.map(([module, n]) => ({ module, selfPercent: percent(n) })),
	};
}
