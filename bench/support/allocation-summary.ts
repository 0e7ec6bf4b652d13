/**
 * Summarises a V8 sampling heap profile (inspector `HeapProfiler.stopSampling`) taken over a known number of
 * requests, as bytes allocated per request: the total, the top frames by self bytes, the bytes by module, and the
 * bytes by innermost own frame (the nearest frame from `packages/` on the allocating stack, so what Node, V8 or a
 * dependency allocates on the daemon's behalf is charged to the daemon code that asked for it). Used by
 * allocation-profile.ts.
 */
import { moduleOf, shortUrl } from "./cpu-profile-summary.js";
import type { MetricsTable } from "./metrics-report.js";

/** One node of `HeapProfiler.SamplingHeapProfile.head` (the fields used here). */
export interface SamplingHeapProfileNode {
	readonly callFrame: {
		readonly functionName: string;
		readonly url: string;
		/** 0-based, in the executed file. */
		readonly lineNumber: number;
		readonly columnNumber: number;
	};
	/** Bytes allocated by this frame itself (V8 scales the samples to an estimate of all allocations). */
	readonly selfSize: number;
	readonly children: readonly SamplingHeapProfileNode[];
}

export interface AllocationSite {
	readonly name: string;
	/** `path:line` (line in the executed file), empty for V8's own frames. */
	readonly where: string;
	readonly bytesPerRequest: number;
}

export interface AllocationSummary {
	readonly requests: number;
	readonly bytesPerRequest: number;
	/** Bytes allocated under some frame from packages/ (whatever frame allocated them). */
	readonly ownBytesPerRequest: number;
	readonly topFrames: readonly AllocationSite[];
	readonly byOwnFrame: readonly AllocationSite[];
	readonly byModule: readonly {
		readonly module: string;
		readonly bytesPerRequest: number;
	}[];
}

/**
 * Maps a frame's 0-based position in the executed file to its source file and 0-based line (a source map's
 * answer, for transpiled TypeScript); undefined keeps the executed position.
 */
export type LocateFrame = (
	url: string,
	lineNumber: number,
	columnNumber: number,
) => { readonly url: string; readonly lineNumber: number } | undefined;

/** Label of allocations with no frame from packages/ on their stack. */
export const NO_OWN_FRAME = "(no frame from packages/)";

/** A frame of our own code: a workspace package's source, not a dependency inside it. */
function isOwn(url: string): boolean {
	return /\/packages\/[^/]+\//.test(url) && !url.includes("/node_modules/");
}

function site(
	node: SamplingHeapProfileNode,
	locate: LocateFrame,
): { name: string; where: string } {
	const { functionName, url, lineNumber, columnNumber } = node.callFrame;
	const at = url === "" ? undefined : locate(url, lineNumber, columnNumber);
	return {
		name: functionName === "" ? "(anonymous)" : functionName,
		where:
			url === ""
				? ""
				: `${shortUrl(at?.url ?? url)}:${(at?.lineNumber ?? lineNumber) + 1}`,
	};
}

function add(
	map: Map<string, { name: string; where: string; bytes: number }>,
	at: { name: string; where: string },
	bytes: number,
): void {
	const key = `${at.name}@${at.where}`;
	const entry = map.get(key) ?? { ...at, bytes: 0 };
	entry.bytes += bytes;
	map.set(key, entry);
}

/** See the file comment; `top` sites per list. */
export function summarizeAllocations(
	head: SamplingHeapProfileNode,
	requests: number,
	top = 15,
	locate: LocateFrame = () => undefined,
): AllocationSummary {
	if (!(requests > 0))
		throw new RangeError(`requests must be positive, got ${requests}`);
	const frames = new Map<
		string,
		{ name: string; where: string; bytes: number }
	>();
	const owners = new Map<
		string,
		{ name: string; where: string; bytes: number }
	>();
	const modules = new Map<string, number>();
	let total = 0;
	let own = 0;
	// Iterative walk (allocation stacks can be deep), carrying the innermost own frame seen so far.
	type Site = { name: string; where: string };
	const stack: { node: SamplingHeapProfileNode; owner: Site | undefined }[] = [
		{ node: head, owner: undefined },
	];
	for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
		const { node } = item;
		const owner = isOwn(node.callFrame.url) ? site(node, locate) : item.owner;
		if (node.selfSize > 0) {
			total += node.selfSize;
			add(frames, site(node, locate), node.selfSize);
			const mod = moduleOf(node.callFrame.url, node.callFrame.functionName);
			modules.set(mod, (modules.get(mod) ?? 0) + node.selfSize);
			if (owner !== undefined) own += node.selfSize;
			add(owners, owner ?? { name: NO_OWN_FRAME, where: "" }, node.selfSize);
		}
		for (const child of node.children) stack.push({ node: child, owner });
	}
	const perRequest = (bytes: number) => bytes / requests;
	const sites = (
		map: Map<string, { name: string; where: string; bytes: number }>,
	): AllocationSite[] =>
		[...map.values()]
			.sort((a, b) => b.bytes - a.bytes)
			.slice(0, top)
			.map((s) => ({
				name: s.name,
				where: s.where,
				bytesPerRequest: perRequest(s.bytes),
			}));
	return {
		requests,
		bytesPerRequest: perRequest(total),
		ownBytesPerRequest: perRequest(own),
		topFrames: sites(frames),
		byOwnFrame: sites(owners),
		byModule: [...modules.entries()]
			.sort((a, b) => b[1] - a[1])
			.map(([module, bytes]) => ({
				module,
				bytesPerRequest: perRequest(bytes),
			})),
	};
}

const bytes = (n: number): string => Math.round(n).toLocaleString("en-US");
const share = (n: number, of: number): string =>
	`${of === 0 ? "0" : ((100 * n) / of).toFixed(1)} %`;

/** The summary as report tables (bytes per request; shares of the total). */
export function allocationTables(
	summary: AllocationSummary,
	what: string,
): MetricsTable[] {
	const total = summary.bytesPerRequest;
	const siteRows = (sites: readonly AllocationSite[]) =>
		sites.map((s) => [
			`\`${s.name}\``,
			s.where === "" ? "" : `\`${s.where}\``,
			bytes(s.bytesPerRequest),
			share(s.bytesPerRequest, total),
		]);
	return [
		{
			caption: `Bytes allocated per request, ${what}: ${bytes(total)} in all, ${bytes(summary.ownBytesPerRequest)} (${share(summary.ownBytesPerRequest, total)}) under a frame from packages/ (${bytes(summary.requests)} requests)`,
			columns: ["module", "bytes/request", "share"],
			rows: summary.byModule
				.slice(0, 12)
				.map((m) => [
					m.module,
					bytes(m.bytesPerRequest),
					share(m.bytesPerRequest, total),
				]),
		},
		{
			caption:
				"By innermost frame from packages/ (Node, V8 and dependency allocations charged to the nearest own frame on the stack)",
			columns: ["function", "where", "bytes/request", "share"],
			rows: siteRows(summary.byOwnFrame),
		},
		{
			caption: "Top frames by self bytes",
			columns: ["function", "where", "bytes/request", "share"],
			rows: siteRows(summary.topFrames),
		},
	];
}
