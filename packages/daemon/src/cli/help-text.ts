/**
 * `flagd --help` and `flagd start --help`, generated from the flag table so every option is listed with its short
 * form, default and env var.
 */
import {
	CONFIG_FLAG,
	DAEMON_FLAGS,
	envVarName,
	type FlagSpec,
} from "../config/daemon-flags.js";

/** Help lines are wrapped to fit a common terminal. */
const LINE_WIDTH = 110;

function wrap(text: string, width: number): string[] {
	const lines: string[] = [];
	let line = "";
	for (const word of text.split(" ")) {
		if (line !== "" && line.length + 1 + word.length > Math.max(width, 40)) {
			lines.push(line);
			line = word;
		} else {
			line = line === "" ? word : `${line} ${word}`;
		}
	}
	lines.push(line);
	return lines;
}

function usage(flag: FlagSpec): string {
	const short = flag.short === undefined ? "    " : `-${flag.short}, `;
	const value =
		flag.kind === "boolean"
			? ""
			: ` <${flag.valueName ?? (flag.kind === "port" ? "port" : "value")}>`;
	return `  ${short}--${flag.name}${value}`;
}

function describe(flag: FlagSpec, withEnv: boolean): string {
	const notes = [
		`default ${flag.defaultText === "" ? '""' : flag.defaultText}`,
	];
	if (withEnv) notes.push(`env ${envVarName(flag.name)}`);
	const limitation = flag.limitation === undefined ? "" : ` ${flag.limitation}`;
	return `${flag.description}${limitation} (${notes.join("; ")})`;
}

export function formatStartHelp(): string {
	const rows: Array<[string, string]> = [
		...DAEMON_FLAGS.map((f): [string, string] => [usage(f), describe(f, true)]),
		[usage(CONFIG_FLAG), describe(CONFIG_FLAG, true)],
		["  -h, --help", "Show this help."],
	];
	const width = Math.max(...rows.map(([u]) => u.length)) + 2;
	const indent = " ".repeat(width);
	return [
		"Start flagd: sync flag definitions from the sources and serve evaluation (gRPC/Connect), sync, OFREP and",
		"management APIs.",
		"",
		"Usage:",
		"  flagd start [flags]",
		"",
		"Flags:",
		...rows.map(
			([u, d]) =>
				`${u.padEnd(width)}${wrap(d, LINE_WIDTH - width).join(`\n${indent}`)}`,
		),
		"",
		"Each flag can also be set with its FLAGD_* env var or as a key (the long name) in the --config file.",
		"Precedence: flag > env var > config file > default. Durations take Go syntax (500ms, 30s, 1m) or plain ms.",
		"",
		"Example:",
		"  flagd start --uri file:./flags.json --uri https://example.com/flags.json -X region=eu",
		"",
	].join("\n");
}

export function formatRootHelp(): string {
	return [
		"flagd: a flagd-compatible feature flag daemon, in TypeScript.",
		"",
		"Usage:",
		"  flagd start [flags]     Start the daemon (see flagd start --help)",
		"  flagd version           Print the version",
		"  flagd help [command]    Show help",
		"",
		"Global flags (also accepted before the command):",
		"      --config <file>     Config file (.json, .yaml, .yml) with long flag names as keys",
		"  -x, --debug             Log at debug level",
		"  -h, --help              Show this help",
		"",
	].join("\n");
}
