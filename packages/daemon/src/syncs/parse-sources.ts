/**
 * The `--sources` JSON array (also `sources:` in a config file) → SourceConfig[], with flagd's field names. Seconds
 * (`interval`, `timeoutS`) become milliseconds here, once. Every problem is collected with its array index and
 * field, and all are reported together in one CONFIG_INVALID error (or returned as values by parseSourcesResult).
 */
import { DaemonError } from "../errors.js";
import type { SourceConfig, SourceProvider } from "./source-config.js";

const PROVIDERS: readonly SourceProvider[] = [
	"file",
	"fsnotify",
	"fileinfo",
	"http",
	"grpc",
	"kubernetes",
	"gcs",
	"azblob",
	"s3",
];

/** flagd's upper bound for `interval` (one day). */
const MAX_INTERVAL_S = 86_400;

const KNOWN_FIELDS = new Set([
	"uri",
	"provider",
	"authHeader",
	"headers",
	"interval",
	"intervalSeed",
	"timeoutS",
	"tls",
	"certPath",
	"clientCertPath",
	"clientKeyPath",
	"providerID",
	"selector",
	"maxMsgSize",
	"bearerToken",
	"oauth",
	"incrementalUpdates",
]);

export interface ParseSourcesResult {
	readonly sources: SourceConfig[];
	/** One line per problem: `sources[<index>].<field>: <what is wrong>`. */
	readonly problems: string[];
	/** Fields flagd ignores (unknown ones): `sources[<index>].<field>: …`, logged as warnings. */
	readonly warnings: string[];
}

type Fields = Record<string, unknown>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function isObject(value: unknown): value is Fields {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

function own(entry: Fields, key: string): unknown {
	return Object.hasOwn(entry, key) ? entry[key] : undefined;
}

/** Parses one entry; pushes problems prefixed with `at`. */
function parseEntry(
	entry: Fields,
	at: string,
	problems: string[],
	warnings: string[],
): SourceConfig | undefined {
	const problem = (field: string, what: string) =>
		problems.push(`${at}.${field}: ${what}`);
	const count = problems.length;
	// flagd ignores fields it does not know; so do we, but say so (a typo in a field name is otherwise invisible).
	for (const key of Object.keys(entry))
		if (!KNOWN_FIELDS.has(key))
			warnings.push(`${at}.${key}: unknown field, ignored`);
	if (own(entry, "bearerToken") !== undefined)
		problem(
			"bearerToken",
			'was removed in flagd (flagd#1816); use "authHeader": "Bearer <token>" instead',
		);
	if (own(entry, "oauth") !== undefined)
		problem("oauth", "is not supported by this daemon; use authHeader");
	if (own(entry, "incrementalUpdates") === true)
		problem(
			"incrementalUpdates",
			"is not supported by this daemon (each gRPC message is a full snapshot)",
		);

	const uri = own(entry, "uri");
	if (typeof uri !== "string" || uri.trim() === "")
		problem("uri", "is required and must be a non-empty string");
	const provider = own(entry, "provider");
	if (
		typeof provider !== "string" ||
		!PROVIDERS.includes(provider as SourceProvider)
	)
		problem(
			"provider",
			`is required and must be one of ${PROVIDERS.join(", ")} (got ${JSON.stringify(provider)})`,
		);

	const config: Mutable<SourceConfig> = {
		uri: String(uri),
		provider: provider as SourceProvider,
	};
	const text = (field: string, apply: (value: string) => void) => {
		const value = own(entry, field);
		if (value === undefined) return;
		if (typeof value !== "string") problem(field, "must be a string");
		else apply(value);
	};
	const integer = (
		field: string,
		min: number,
		max: number,
		apply: (value: number) => void,
	) => {
		const value = own(entry, field);
		if (value === undefined) return;
		if (
			typeof value !== "number" ||
			!Number.isInteger(value) ||
			value < min ||
			value > max
		)
			problem(field, `must be an integer from ${min} to ${max}`);
		else apply(value);
	};
	text("authHeader", (v) => {
		config.authHeader = v;
	});
	text("intervalSeed", (v) => {
		config.intervalSeed = v;
	});
	text("certPath", (v) => {
		config.certPath = v;
	});
	text("clientCertPath", (v) => {
		config.clientCertPath = v;
	});
	text("clientKeyPath", (v) => {
		config.clientKeyPath = v;
	});
	if (
		(own(entry, "clientCertPath") === undefined) !==
		(own(entry, "clientKeyPath") === undefined)
	)
		problem(
			own(entry, "clientCertPath") === undefined
				? "clientCertPath"
				: "clientKeyPath",
			"clientCertPath and clientKeyPath go together (a client certificate needs its key)",
		);
	text("providerID", (v) => {
		config.providerId = v;
	});
	text("selector", (v) => {
		config.selector = v;
	});
	// flagd treats interval 0 as "use the default".
	integer("interval", 0, MAX_INTERVAL_S, (s) => {
		if (s > 0) config.intervalMs = s * 1000;
	});
	integer("timeoutS", 0, MAX_INTERVAL_S, (s) => {
		config.timeoutMs = s * 1000;
	});
	integer("maxMsgSize", 1, 2 ** 31 - 1, (bytes) => {
		config.maxMsgSizeBytes = bytes;
	});
	const tls = own(entry, "tls");
	if (tls !== undefined) {
		if (typeof tls !== "boolean") problem("tls", "must be true or false");
		else config.tls = tls;
	}
	const headers = own(entry, "headers");
	if (headers !== undefined) {
		if (!isObject(headers))
			problem("headers", "must be an object of header name to string value");
		else {
			// A null-prototype copy: header names like "__proto__" stay plain data.
			const copy: Record<string, string> = Object.create(null);
			for (const [name, value] of Object.entries(headers)) {
				if (typeof value !== "string")
					problem(`headers.${name}`, "must be a string");
				else copy[name] = value;
			}
			config.headers = copy;
		}
	}
	return problems.length === count ? config : undefined;
}

/** Parses the `--sources` value (JSON text, or an already-parsed array) and returns sources and problems as values. */
export function parseSourcesResult(
	input: string | unknown,
): ParseSourcesResult {
	let value: unknown = input;
	if (typeof input === "string") {
		try {
			value = JSON.parse(input);
		} catch (error: unknown) {
			return {
				sources: [],
				problems: [`sources: not valid JSON: ${(error as Error).message}`],
				warnings: [],
			};
		}
	}
	if (!Array.isArray(value))
		return {
			sources: [],
			problems: ["sources: must be a JSON array of source objects"],
			warnings: [],
		};
	const problems: string[] = [];
	const warnings: string[] = [];
	const sources: SourceConfig[] = [];
	value.forEach((entry: unknown, index) => {
		const at = `sources[${index}]`;
		if (!isObject(entry)) {
			problems.push(
				`${at}: must be an object with at least "uri" and "provider"`,
			);
			return;
		}
		const config = parseEntry(entry, at, problems, warnings);
		if (config !== undefined) sources.push(config);
	});
	return { sources, problems, warnings };
}

/** Like parseSourcesResult, but throws one CONFIG_INVALID DaemonError listing every problem. */
export function parseSources(input: string | unknown): SourceConfig[] {
	const { sources, problems } = parseSourcesResult(input);
	if (problems.length > 0)
		throw new DaemonError(
			"CONFIG_INVALID",
			`invalid --sources:\n  ${problems.join("\n  ")}`,
		);
	return sources;
}
