/**
 * The ids and bytes of OFREP SSE events (ADR-0008) and the bounded buffer they are replayed from. Ids are
 * `<run>-<sequence>`: `run` is random per daemon start, `sequence` counts events across channels, so an id names
 * one event of one run and a reconnecting client's `Last-Event-ID` tells which events it has missed.
 */
import { createHash, randomBytes } from "node:crypto";
import type { FlagView } from "../../store/flag-view.js";

interface RetainedEvent {
	readonly seq: number;
	readonly channelKey: string;
	readonly bytes: Buffer;
}

/** The version a `refetchEvaluation` event announces. */
export interface OfrepEventVersion {
	readonly etag: string;
	readonly lastModifiedSec: number;
}

export class OfrepEventLog {
	readonly #run = randomBytes(6).toString("base64url");
	readonly #retained: RetainedEvent[] = [];
	readonly #capacity: number;
	#seq = 0;

	/** @param capacity events kept for replay. */
	constructor(capacity: number) {
		this.#capacity = capacity;
	}

	/** Sequence of the latest event (0 before the first). */
	get seq(): number {
		return this.#seq;
	}

	/** Records a new event of `channelKey` and returns its sequence and bytes. */
	append(
		channelKey: string,
		version: OfrepEventVersion,
	): { seq: number; bytes: Buffer } {
		const seq = ++this.#seq;
		const bytes = this.encode(seq, version);
		this.#retained.push({ seq, channelKey, bytes });
		if (this.#retained.length > this.#capacity) this.#retained.shift();
		return { seq, bytes };
	}

	/** `refetchEvaluation` with the id of `seq`. */
	encode(seq: number, version: OfrepEventVersion): Buffer {
		const data = JSON.stringify({
			type: "refetchEvaluation",
			etag: version.etag,
			lastModified: version.lastModifiedSec,
		});
		return Buffer.from(
			`id: ${this.#run}-${seq}\nevent: message\ndata: ${data}\n\n`,
		);
	}

	/** An `id:` line and no data: sets the browser's last event id without dispatching anything. */
	primer(): Buffer {
		return Buffer.from(`id: ${this.#run}-${this.#seq}\n\n`);
	}

	/** The sequence of an id this run issued and can still replay from, else undefined. */
	seqOf(id: string): number | undefined {
		const dash = id.lastIndexOf("-");
		if (dash < 0 || id.slice(0, dash) !== this.#run) return undefined;
		const text = id.slice(dash + 1);
		if (!/^\d{1,15}$/.test(text)) return undefined;
		const seq = Number(text);
		if (seq > this.#seq) return undefined;
		const oldest = this.#retained[0]?.seq ?? this.#seq + 1;
		// Events after `seq` must all still be retained.
		return seq + 1 >= oldest ? seq : undefined;
	}

	/** The retained events of `channelKey` after `seq`, as one buffer (empty when there are none). */
	since(seq: number, channelKey: string): Buffer {
		return Buffer.concat(
			this.#retained
				.filter((e) => e.seq > seq && e.channelKey === channelKey)
				.map((e) => e.bytes),
		);
	}
}

/** A version of a selector's flag set: changes whenever anything a client can observe about it changes. */
export function versionOf(view: FlagView): string {
	const hash = createHash("sha1").update(view.selector.key);
	for (const flag of view.list) {
		hash.update("\u0000").update(flag.key).update("\u0000");
		hash.update(flag.fingerprint);
	}
	return hash.digest("base64url");
}
