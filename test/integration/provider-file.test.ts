/**
 * FlagdProvider with resolver "file" on real files and watchers: JSON and YAML, in-place writes, rename-on-save,
 * a Kubernetes-style symlink swap, a bad file (last good flags kept, one log line), deletion (STALE, ERROR after
 * the grace period, READY when the file is back), a missing file at start, and the poll fallback.
 */
import {
	mkdirSync,
	mkdtempSync,
	renameSync,
	rmSync,
	symlinkSync,
	unlinkSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FlagdProvider, type FlagdProviderOptions } from "@flagd-ts/provider";
import {
	afterAll,
	afterEach,
	beforeEach,
	describe,
	expect,
	it,
} from "@jest/globals";
import {
	type Client,
	type EventDetails,
	OpenFeature,
	ProviderEvents,
	ProviderStatus,
} from "@openfeature/server-sdk";
import {
	quietLogger,
	type RecordingLogger,
	recordingLogger,
	waitFor,
} from "../support/provider-test-helpers.js";

function document(color: string, extra: Record<string, unknown> = {}): string {
	return JSON.stringify({
		flags: {
			"color-flag": {
				state: "ENABLED",
				variants: { red: "red", blue: "blue", green: "green" },
				defaultVariant: color,
			},
			"targeted-flag": {
				state: "ENABLED",
				variants: { yes: true, no: false },
				defaultVariant: "no",
				targeting: {
					if: [{ starts_with: [{ var: "targetingKey" }, "vip-"] }, "yes", null],
				},
			},
			...extra,
		},
	});
}

const YAML = `flags:
  color-flag:
    state: ENABLED
    variants:
      red: red
      blue: blue
    defaultVariant: blue
`;

let dir: string;
const providers: FlagdProvider[] = [];
let domainCounter = 0;

interface Opened {
	client: Client;
	provider: FlagdProvider;
	events: Array<{ type: ProviderEvents; details?: EventDetails; atMs: number }>;
	logger: RecordingLogger;
}

async function open(
	filePath: string,
	options: FlagdProviderOptions = {},
): Promise<Opened> {
	const logger = recordingLogger();
	const provider = new FlagdProvider({
		env: {},
		logger,
		resolver: "file",
		offlineFlagSourcePath: filePath,
		...options,
	});
	providers.push(provider);
	const domain = `file-${domainCounter++}`;
	await OpenFeature.setProviderAndWait(domain, provider);
	const client = OpenFeature.getClient(domain);
	const events: Opened["events"] = [];
	for (const type of [
		ProviderEvents.Ready,
		ProviderEvents.Stale,
		ProviderEvents.Error,
		ProviderEvents.ConfigurationChanged,
	]) {
		client.addHandler(type, (details) =>
			events.push({ type, details, atMs: Date.now() }),
		);
	}
	events.length = 0;
	return { client, provider, events, logger };
}

function changeEvents(opened: Opened) {
	return opened.events.filter(
		(e) => e.type === ProviderEvents.ConfigurationChanged,
	);
}

async function nextChange(opened: Opened, count: number): Promise<string[]> {
	await waitFor(
		() => changeEvents(opened).length >= count,
		10_000,
		`change event #${count}`,
	);
	const details = changeEvents(opened)[count - 1]?.details as
		| { flagsChanged?: string[] }
		| undefined;
	return details?.flagsChanged ?? [];
}

beforeEach(() => {
	dir = mkdtempSync(path.join(tmpdir(), "flagd-file-resolver-"));
});

afterEach(async () => {
	await OpenFeature.clearProviders();
	for (const p of providers.splice(0)) await p.onClose();
	rmSync(dir, { recursive: true, force: true });
});

afterAll(async () => {
	await OpenFeature.close();
});

describe("file resolver", () => {
	it("evaluates a JSON file and follows in-place writes and rename-on-save with exact keys", async () => {
		const file = path.join(dir, "flags.json");
		writeFileSync(file, document("red"));
		const opened = await open(file);
		const { client } = opened;
		expect(await client.getStringDetails("color-flag", "")).toMatchObject({
			value: "red",
			reason: "STATIC",
		});
		expect(
			await client.getBooleanValue("targeted-flag", false, {
				targetingKey: "vip-1",
			}),
		).toBe(true);

		writeFileSync(file, document("blue"));
		expect(await nextChange(opened, 1)).toEqual(["color-flag"]);
		expect(await client.getStringValue("color-flag", "")).toBe("blue");

		// Editors save by writing a temp file and renaming it over the original.
		const temp = path.join(dir, ".flags.json.swp");
		writeFileSync(
			temp,
			document("green", {
				"new-flag": {
					state: "ENABLED",
					variants: { a: 1 },
					defaultVariant: "a",
				},
			}),
		);
		renameSync(temp, file);
		expect(await nextChange(opened, 2)).toEqual(["color-flag", "new-flag"]);
		expect(await client.getNumberValue("new-flag", 0)).toBe(1);
	});

	it("reads YAML", async () => {
		const file = path.join(dir, "flags.yaml");
		writeFileSync(file, YAML);
		const { client } = await open(file);
		expect(await client.getStringValue("color-flag", "")).toBe("blue");
	});

	it("follows a Kubernetes ConfigMap symlink swap", async () => {
		// <dir>/flags.json -> ..data/flags.json, ..data -> ..v1; an update writes ..v2 and renames a new ..data link.
		mkdirSync(path.join(dir, "..v1"));
		writeFileSync(path.join(dir, "..v1", "flags.json"), document("red"));
		symlinkSync("..v1", path.join(dir, "..data"));
		symlinkSync(
			path.join("..data", "flags.json"),
			path.join(dir, "flags.json"),
		);
		const opened = await open(path.join(dir, "flags.json"));
		expect(await opened.client.getStringValue("color-flag", "")).toBe("red");

		mkdirSync(path.join(dir, "..v2"));
		writeFileSync(path.join(dir, "..v2", "flags.json"), document("blue"));
		symlinkSync("..v2", path.join(dir, "..data_tmp"));
		renameSync(path.join(dir, "..data_tmp"), path.join(dir, "..data"));
		expect(await nextChange(opened, 1)).toEqual(["color-flag"]);
		expect(await opened.client.getStringValue("color-flag", "")).toBe("blue");
	});

	it("keeps the last good flags when the file turns bad, with one clear log line, and takes the next good one", async () => {
		const file = path.join(dir, "flags.json");
		writeFileSync(file, document("red"));
		const opened = await open(file);
		writeFileSync(file, "{ not json");
		await waitFor(
			() => opened.logger.lines.some((l) => l.level === "error"),
			10_000,
			"the error line",
		);
		const errors = opened.logger.lines.filter((l) => l.level === "error");
		expect(errors).toHaveLength(1);
		expect(errors[0]?.text).toMatch(
			/flag file .*flags\.json is invalid \(.*not valid JSON.*\); keeping the last good flags/,
		);
		expect(await opened.client.getStringValue("color-flag", "")).toBe("red");
		expect(opened.provider.status).toBe(ProviderStatus.READY);
		writeFileSync(file, document("blue"));
		expect(await nextChange(opened, 1)).toEqual(["color-flag"]);
	});

	it("turns STALE when the file disappears, ERROR after the grace period, and READY when it is back", async () => {
		const file = path.join(dir, "flags.json");
		writeFileSync(file, document("red"));
		const opened = await open(file, { retryGracePeriod: 1 });
		unlinkSync(file);
		await waitFor(
			() => opened.events.some((e) => e.type === ProviderEvents.Error),
			10_000,
			"ERROR",
		);
		expect(await opened.client.getStringValue("color-flag", "")).toBe("red");
		writeFileSync(file, document("blue"));
		await waitFor(
			() => opened.events.some((e) => e.type === ProviderEvents.Ready),
			10_000,
			"READY",
		);
		await nextChange(opened, 1);
		expect(opened.events.map((e) => e.type)).toEqual([
			ProviderEvents.Stale,
			ProviderEvents.Error,
			ProviderEvents.Ready,
			ProviderEvents.ConfigurationChanged,
		]);
		expect(
			(
				changeEvents(opened)[0]?.details as
					| { flagsChanged?: string[] }
					| undefined
			)?.flagsChanged,
		).toEqual(["color-flag"]);
		expect(await opened.client.getStringValue("color-flag", "")).toBe("blue");
	});

	it("rejects initialize for a missing file within deadlineMs, then becomes READY when it appears", async () => {
		const file = path.join(dir, "later.json");
		const provider = new FlagdProvider({
			env: {},
			logger: quietLogger,
			resolver: "file",
			offlineFlagSourcePath: file,
			deadlineMs: 200,
		});
		providers.push(provider);
		await expect(provider.initialize()).rejects.toThrow(
			/cannot read flag file .*later\.json: ENOENT/,
		);
		writeFileSync(file, document("red"));
		await waitFor(
			() => provider.status === ProviderStatus.READY,
			10_000,
			"READY",
		);
	});

	it("re-reads at offlinePollIntervalMs what the directory watcher cannot see", async () => {
		// The watched directory holds a symlink to a file elsewhere: writes to the target raise no event in the
		// link's directory, so only the poll can pick them up.
		const elsewhere = path.join(dir, "elsewhere");
		mkdirSync(elsewhere);
		const target = path.join(elsewhere, "real.json");
		writeFileSync(target, document("red"));
		const linkDir = path.join(dir, "watched");
		mkdirSync(linkDir);
		symlinkSync(target, path.join(linkDir, "flags.json"));
		const opened = await open(path.join(linkDir, "flags.json"), {
			offlinePollIntervalMs: 100,
		});
		writeFileSync(target, document("blue"));
		expect(await nextChange(opened, 1)).toEqual(["color-flag"]);
		// Re-reads of unchanged content are not changes.
		expect(changeEvents(opened)).toHaveLength(1);
	});

	it("refuses options the file resolver cannot use, naming them", () => {
		expect(
			() =>
				new FlagdProvider({
					env: {},
					resolver: "file",
					offlineFlagSourcePath: "x.json",
					host: "h",
				}),
		).toThrow(/"host" is not used by the file resolver/);
	});
});
