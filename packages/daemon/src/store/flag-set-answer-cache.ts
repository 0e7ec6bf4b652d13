/**
 * Answers derived from a whole flag set, computed once per view and dropped with it. A FlagView is one selector's
 * flags at one store version (the store replaces it on every change), so keying by the view object means "per
 * (store version, selector)" without a version check, an eviction policy or a stale entry: when no request holds
 * an old view any more, its answer is garbage too. Bulk APIs keep the context-independent part of their answer
 * here (ResolveAll's encoded static flags; an OFREP bulk answer can do the same) instead of rebuilding it per
 * request.
 */
import type { FlagView } from "./flag-view.js";

/** See the file comment. One instance per kind of answer (e.g. per API and encoding). */
export class FlagSetAnswerCache<T> {
	readonly #answers = new WeakMap<FlagView, T>();
	readonly #build: (view: FlagView) => T;

	/** `build` derives the answer from a view; it runs at most once per view. */
	constructor(build: (view: FlagView) => T) {
		this.#build = build;
	}

	get(view: FlagView): T {
		let answer = this.#answers.get(view);
		if (answer === undefined) {
			answer = this.#build(view);
			this.#answers.set(view, answer);
		}
		return answer;
	}
}
