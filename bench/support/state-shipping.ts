/**
 * What shipping flag state from a syncing process to a serving one would cost (the "Many cores" design in
 * docs/performance.md): the round trip of one flag document, as the JSON string a source delivers, over Node's IPC
 * channel to a child process and back (the child answers with the length it received), with both of Node's IPC
 * serializations, and `JSON.parse` of the same string in this process for scale.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { stats } from "../harness.js";
import { scaleDocument } from "./flag-documents.js";

export interface ShippingResult {
	readonly flags: number;
	readonly bytes: number;
	/** Round-trip ms per send, by IPC serialization (first send excluded as warm-up). */
	readonly roundTripMs: {
		readonly json: number[];
		readonly advanced: number[];
	};
	readonly parseMs: number[];
}

/** Echo child: answers every message with its length. Inline, so it needs no file of its own. */
const ECHO = "process.on('message', (m) => process.send(m.length));";

function roundTrip(child: ChildProcess, message: string): Promise<number> {
	return new Promise((resolve, reject) => {
		const started = performance.now();
		child.once("message", (length) => {
			if (length !== message.length)
				reject(new Error(`echo child received ${String(length)} characters`));
			else resolve(performance.now() - started);
		});
		child.send(message);
	});
}

async function measure(
	serialization: "json" | "advanced",
	message: string,
	sends: number,
): Promise<number[]> {
	const child = spawn(process.execPath, ["-e", ECHO], {
		stdio: ["ignore", "ignore", "inherit", "ipc"],
		serialization,
	});
	try {
		const times: number[] = [];
		for (let i = 0; i <= sends; i++) {
			const ms = await roundTrip(child, message);
			if (i > 0) times.push(ms);
		}
		return times;
	} finally {
		child.kill();
	}
}

/** Measures `sends` round trips per serialization of a `flags`-flag document. */
export async function measureStateShipping(
	flags: number,
	sends: number,
): Promise<ShippingResult> {
	const message = JSON.stringify(scaleDocument(flags));
	const json = await measure("json", message, sends);
	const advanced = await measure("advanced", message, sends);
	const parseMs: number[] = [];
	for (let i = 0; i < sends; i++) {
		const started = performance.now();
		JSON.parse(message);
		parseMs.push(performance.now() - started);
	}
	return {
		flags,
		bytes: Buffer.byteLength(message),
		roundTripMs: { json, advanced },
		parseMs,
	};
}

/** "median (min–max)" in ms. */
export function formatMs(values: readonly number[]): string {
	const s = stats(values);
	return `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
}
