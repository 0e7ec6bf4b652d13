/**
 * Looks options up across the configuration layers in precedence order (CLI flag > FLAGD_* env var > config file),
 * parses the winning layer's raw values and collects every problem instead of stopping at the first one. As with
 * viper, the highest layer that sets an option supplies all of it: `--uri a` replaces FLAGD_URI, never appends.
 */
import type { Parsed } from "./option-parsers.js";
import type { RawItem, RawSetting, SettingLayer } from "./raw-setting.js";

export class OptionReader {
	readonly #layers: readonly SettingLayer[];
	readonly #problems: string[];
	readonly #warnings: string[];

	/** `layers` in precedence order, highest first; problems are appended to `problems`, warnings to `warnings`. */
	constructor(
		layers: readonly SettingLayer[],
		problems: string[],
		warnings: string[] = [],
	) {
		this.#layers = layers;
		this.#problems = problems;
		this.#warnings = warnings;
	}

	/** Records something the daemon ignores, logged at start-up (not an error). */
	warn(warning: string): void {
		this.#warnings.push(warning);
	}

	/** The winning setting of an option, if any layer sets it. */
	find(name: string): RawSetting | undefined {
		for (const layer of this.#layers) {
			const setting = layer.get(name);
			if (setting !== undefined) return setting;
		}
		return undefined;
	}

	/** Where the winning value came from (`--port=1`, `FLAGD_PORT=1`, …), for cross-option problems. */
	origin(name: string): string {
		const items = this.find(name)?.items;
		return items?.[items.length - 1]?.label ?? `--${name}`;
	}

	/** Records a problem; the final error lists all of them. */
	report(problem: string): void {
		this.#problems.push(problem);
	}

	/** A single-valued option: a repeated flag keeps its last value (pflag), a bad value keeps the fallback. */
	scalar<T>(name: string, parse: (raw: unknown) => Parsed<T>, fallback: T): T {
		const items = this.find(name)?.items;
		const item = items?.[items.length - 1];
		if (item === undefined) return fallback;
		const result = parse(item.value);
		if (result.ok) return result.value;
		this.#fail(item, name, result.problem);
		return fallback;
	}

	/** A repeatable option: every occurrence parsed and concatenated; undefined when no layer sets it. */
	repeated<T>(
		name: string,
		parse: (raw: unknown) => Parsed<T[]>,
	): Array<{ value: T; item: RawItem }> | undefined {
		const setting = this.find(name);
		if (setting === undefined) return undefined;
		const out: Array<{ value: T; item: RawItem }> = [];
		for (const item of setting.items) {
			const result = parse(item.value);
			if (result.ok) {
				for (const value of result.value) out.push({ value, item });
			} else {
				this.#fail(item, name, result.problem);
			}
		}
		return out;
	}

	#fail(item: RawItem, name: string, problem: string): void {
		this.#problems.push(`${item.label}: --${name} ${problem}`);
	}
}
