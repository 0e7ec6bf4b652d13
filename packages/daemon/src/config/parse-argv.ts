/**
 * A small hand-written parser for `flagd start` arguments with pflag's rules: `--name value`, `--name=value`,
 * `-p value`, `-p=value`, `-pvalue`, bare booleans (`--debug`, `-x`) or `--debug=false`, repeatable options. It
 * never throws and never stops at the first problem: the caller reports every problem together (C26).
 */
import { CONFIG_FLAG, DAEMON_FLAGS, type FlagSpec } from "./daemon-flags.js";
import type { RawItem, RawSetting, SettingLayer } from "./raw-setting.js";
import { suggestName } from "./suggest-name.js";

export interface ParsedArgv {
	readonly layer: SettingLayer;
	/** `--config <file>` when given. */
	readonly configPath: RawItem | undefined;
	readonly problems: readonly string[];
}

const ALL_FLAGS = [...DAEMON_FLAGS, CONFIG_FLAG];
const BY_LONG = new Map(ALL_FLAGS.map((f) => [f.name, f]));
const BY_SHORT = new Map(
	ALL_FLAGS.flatMap((f) => (f.short === undefined ? [] : [[f.short, f]])),
);

interface Token {
	readonly spec: FlagSpec;
	/** The flag as typed (`--port`, `-p`). */
	readonly written: string;
	/** Value attached with `=` or glued to a short flag. */
	readonly inline: string | undefined;
}

function readToken(arg: string): Token | string {
	if (arg.startsWith("--")) {
		const eq = arg.indexOf("=");
		const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
		const spec = BY_LONG.get(name);
		if (spec === undefined) {
			const hint = suggestName(name, [...BY_LONG.keys()]);
			return `unknown flag --${name}${hint === undefined ? "" : ` (did you mean --${hint}?)`}`;
		}
		return {
			spec,
			written: `--${name}`,
			inline: eq === -1 ? undefined : arg.slice(eq + 1),
		};
	}
	const letter = arg.slice(1, 2);
	const spec = BY_SHORT.get(letter);
	if (spec === undefined) return `unknown shorthand flag -${letter} in ${arg}`;
	const rest = arg.slice(2);
	const inline =
		rest === "" ? undefined : rest.startsWith("=") ? rest.slice(1) : rest;
	return { spec, written: `-${letter}`, inline };
}

function isFlagLike(arg: string | undefined): boolean {
	// A negative number after a flag is a (bad) value, not a flag, so `-p -1` reports the range, not "needs a value".
	return arg !== undefined && /^-[^\d]/.test(arg);
}

/** Parses the arguments after `start`. Help flags are the CLI's business and are rejected here as unknown. */
export function parseArgv(argv: readonly string[]): ParsedArgv {
	const items = new Map<string, RawItem[]>();
	const problems: string[] = [];
	let configPath: RawItem | undefined;
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i] as string;
		if (arg === "--") {
			for (const extra of argv.slice(i + 1)) {
				problems.push(`unexpected argument "${extra}"`);
			}
			break;
		}
		if (!isFlagLike(arg)) {
			problems.push(
				`unexpected argument "${arg}" (flagd start takes only flags)`,
			);
			continue;
		}
		const token = readToken(arg);
		if (typeof token === "string") {
			problems.push(token);
			// `--prot 8013`: the unknown flag's likely value is not a second problem worth reporting.
			if (!arg.includes("=") && i + 1 < argv.length && !isFlagLike(argv[i + 1]))
				i++;
			continue;
		}
		let value = token.inline;
		let label = value === undefined ? token.written : arg;
		if (value === undefined) {
			if (token.spec.kind === "boolean") {
				value = "true";
			} else if (i + 1 < argv.length && !isFlagLike(argv[i + 1])) {
				i++;
				value = argv[i] as string;
				label = `${token.written} ${value}`;
			} else {
				problems.push(`${token.written} needs a value`);
				continue;
			}
		}
		const item: RawItem = { value, label };
		if (token.spec === CONFIG_FLAG) {
			configPath = item;
			continue;
		}
		const list = items.get(token.spec.name) ?? [];
		list.push(item);
		items.set(token.spec.name, list);
	}
	const layer = new Map<string, RawSetting>();
	for (const [name, list] of items)
		layer.set(name, { layer: "cli", items: list });
	return { layer, configPath, problems };
}
