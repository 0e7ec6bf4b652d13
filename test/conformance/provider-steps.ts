/**
 * Step definitions for providers, events and infrastructure control: `a <kind> flagd provider`, the event handler
 * steps (with their timing), `the connection is lost for Ns` (launchpad restart) and `the flag was modified`
 * (launchpad change). Provider kinds map to launchpad configs and options as in the testbed harnesses (Java
 * ProviderSteps): keepalive 0, retryGracePeriod 2 s unless the scenario sets them. The deadline is 3 s rather than
 * the Java harness's 1 s: the suite must pass on a busy shared 2-core machine, where a unary call or the first sync
 * can take over a second; the scenarios about deadlines set theirs explicitly.
 */
import path from "node:path";
import { FlagdProvider, type FlagdProviderOptions } from "@flagd-ts/provider";
import {
	OpenFeature,
	type Provider,
	ProviderEvents,
	ProviderStatus,
} from "@openfeature/server-sdk";
import {
	EvaluationV1TestProvider,
	OfrepTestProvider,
} from "./api-test-provider.js";
import {
	arg,
	type ConformanceWorld,
	type EventName,
	type StepDefinition,
} from "./conformance-world.js";
import type { LaunchpadConfigName } from "./launchpad.js";

/** How long `… event handler should have been executed` and `… event was fired` wait without an explicit `within`. */
export const DEFAULT_EVENT_TIMEOUT_MS = 20_000; // the js-sdk-contrib flagd harness uses 20 s as well

const HARNESS_DEFAULTS = {
	deadlineMs: 3000,
	keepAliveTime: 0,
	retryGracePeriod: 2,
} as const;

const CONFIG_BY_KIND: Readonly<Record<string, LaunchpadConfigName>> = {
	stable: "default",
	unavailable: "default",
	forbidden: "default",
	ssl: "ssl",
	socket: "socket",
	metadata: "metadata",
	syncpayload: "sync-payload",
};

const EVENT_BY_NAME: Readonly<Record<EventName, ProviderEvents>> = {
	ready: ProviderEvents.Ready,
	error: ProviderEvents.Error,
	stale: ProviderEvents.Stale,
	change: ProviderEvents.ConfigurationChanged,
};

const quietLogger = { error() {}, warn() {}, info() {}, debug() {} };
let domainCounter = 0;

function eventName(raw: string): EventName {
	if (raw in EVENT_BY_NAME) return raw as EventName;
	throw new Error(`unknown event "${raw}"`);
}

/**
 * File resolver: every provider kind reads the launchpad's merged flag file (what the testbed bind-mounts for file
 * providers), `unavailable` a file that does not exist. A source `selector` names a file of the launchpad dir, so
 * it becomes the file to read (the metadata scenarios select `rawflags/selector-flag-combined-metadata.json`).
 * Connection options (host, port, keepalive) do not apply to a file and are not passed.
 */
function fileProviderOptions(
	world: ConformanceWorld,
	kind: string,
): FlagdProviderOptions {
	const { launchpad } = world.environment;
	const { selector, ...rest } = world.options;
	const file =
		kind === "unavailable"
			? path.join(launchpad.dir, "flags", "missing.json")
			: typeof selector === "string"
				? path.join(launchpad.dir, selector)
				: path.join(launchpad.dir, "flags", "allFlags.json");
	return {
		deadlineMs: HARNESS_DEFAULTS.deadlineMs,
		retryGracePeriod: HARNESS_DEFAULTS.retryGracePeriod,
		logger: quietLogger,
		env: { ...world.env },
		resolver: "file",
		offlineFlagSourcePath: file,
		...rest,
	} as FlagdProviderOptions;
}

function providerOptions(
	world: ConformanceWorld,
	kind: string,
): FlagdProviderOptions {
	const { backend } = world.environment;
	if (backend === "file") return fileProviderOptions(world, kind);
	const inProcess = backend === "in-process";
	const { launchpad, router, forbidden, unavailablePort } = world.environment;
	const options: Record<string, unknown> = {
		...HARNESS_DEFAULTS,
		host: "127.0.0.1",
		port: inProcess ? launchpad.ports.sync : launchpad.ports.evaluation,
		logger: quietLogger,
		env: { ...world.env },
		...(inProcess ? { resolver: "in-process" } : {}),
	};
	switch (kind) {
		case "unavailable":
			options.port = unavailablePort;
			break;
		case "forbidden":
			options.port = forbidden.port;
			break;
		case "socket":
			options.socketPath = inProcess
				? launchpad.syncSocketPath
				: launchpad.socketPath;
			options.port = unavailablePort;
			break;
		case "ssl":
			// The server certificate is for CN=localhost, so the provider must use that name.
			Object.assign(options, {
				host: "localhost",
				tls: true,
				certPath: launchpad.tls.caCertPath,
			});
			break;
		default:
			break;
	}
	Object.assign(options, world.options);
	if (typeof options.targetUri === "string") {
		options.targetUri = options.targetUri.replace(
			"<port>",
			String(router.port),
		);
		options.port = unavailablePort; // as in the testbed harnesses: prove the target URI, not host/port, is used
	}
	return options as FlagdProviderOptions;
}

function createProvider(world: ConformanceWorld, kind: string): Provider {
	const { backend, launchpad } = world.environment;
	if (backend === "provider" || backend === "in-process" || backend === "file")
		return new FlagdProvider(providerOptions(world, kind));
	if (kind !== "stable")
		throw new Error(
			`the ${backend} backend only has a stable provider, not "${kind}"`,
		);
	const selector =
		typeof world.options.selector === "string"
			? world.options.selector
			: undefined;
	return backend === "ofrep"
		? new OfrepTestProvider({
				baseUrl: `http://127.0.0.1:${launchpad.ports.ofrep}`,
				selector,
			})
		: new EvaluationV1TestProvider({
				baseUrl: `http://127.0.0.1:${launchpad.ports.evaluation}`,
				selector,
			});
}

async function setUpProvider(
	world: ConformanceWorld,
	kind: string,
): Promise<void> {
	const config = CONFIG_BY_KIND[kind];
	if (config === undefined) throw new Error(`unknown provider kind "${kind}"`);
	await world.environment.launchpad.ensureStarted(config);
	const provider = createProvider(world, kind);
	const domain = `conformance-${domainCounter++}`;
	world.provider = provider;
	world.client = OpenFeature.getClient(domain);
	if (kind === "unavailable" || kind === "forbidden") {
		// Not awaited (the testbed does not wait either): initialization fails and the error event is the check.
		OpenFeature.setProvider(domain, provider);
	} else {
		await setProviderAndAwaitReady(world, domain, provider);
	}
}

/**
 * `setProviderAndWait`, except that on a machine too busy for the harness's 1 s deadline the step does not fail:
 * the scenarios test what happens after a stable provider is ready, not the speed of its first connection (the
 * deadline itself is tested with its own scenarios and the provider's integration tests). The provider keeps
 * connecting in the background after its deadline, so this awaits its READY event for as long as any event step
 * waits; a provider that never gets ready still fails the step, with the init error as the cause.
 */
async function setProviderAndAwaitReady(
	world: ConformanceWorld,
	domain: string,
	provider: Provider,
): Promise<void> {
	const client = requireClient(world);
	let onReady = () => {};
	const ready = new Promise<void>((resolve) => {
		onReady = resolve;
	});
	client.addHandler(ProviderEvents.Ready, onReady);
	try {
		await OpenFeature.setProviderAndWait(domain, provider);
	} catch (initError) {
		let timer: NodeJS.Timeout | undefined;
		const timedOut = new Promise<never>((_, reject) => {
			timer = setTimeout(
				() =>
					reject(
						new Error(
							`the provider did not get ready within ${DEFAULT_EVENT_TIMEOUT_MS} ms after its init error`,
							{ cause: initError },
						),
					),
				DEFAULT_EVENT_TIMEOUT_MS,
			);
		});
		try {
			await Promise.race([ready, timedOut]);
		} finally {
			clearTimeout(timer);
		}
	} finally {
		client.removeHandler(ProviderEvents.Ready, onReady);
	}
}

/** Waits for the first event of `type` after the cursor, then moves the cursor past it. */
async function consumeEvent(
	world: ConformanceWorld,
	type: EventName,
	timeoutMs: number,
): Promise<void> {
	const started = Date.now();
	for (;;) {
		const index = world.events.findIndex(
			(event, i) => i >= world.eventCursor && event.type === type,
		);
		const event = world.events[index];
		if (event !== undefined) {
			world.lastConsumedEvent = event;
			world.eventCursor = index + 1;
			return;
		}
		const waitedMs = Date.now() - started;
		if (waitedMs > timeoutMs) {
			const seen = world.events.map((e) => e.type).join(", ") || "none";
			throw new Error(
				`no $typeevent within $timeoutMsms (events so far: ${seen}; cursor $world.eventCursor)`,
			);
		}
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

function requireClient(world: ConformanceWorld) {
	if (world.client === undefined)
		throw new Error("no provider was set up in this scenario");
	return world.client;
}

/** See the file comment. */
export const providerSteps: readonly StepDefinition[] = [
	{
		pattern: /^a (\w+) flagd provider$/,
		run: (world, args) => setUpProvider(world, arg(args, 0)),
	},
	{
		pattern: /^a (\w+) event handler$/,
		run(world, args) {
			const type = eventName(arg(args, 0));
			requireClient(world).addHandler(EVENT_BY_NAME[type], (details) => {
				world.events.push({ type, details, atMs: Date.now() });
			});
		},
	},
	{
		pattern:
			/^the (\w+) event handler should have been executed within (\d+)ms$/,
		run: (world, args) =>
			consumeEvent(world, eventName(arg(args, 0)), Number(arg(args, 1))),
	},
	{
		pattern: /^the (\w+) event handler should have been executed$/,
		run: (world, args) =>
			consumeEvent(world, eventName(arg(args, 0)), DEFAULT_EVENT_TIMEOUT_MS),
	},
	{
		pattern: /^an? (\w+) event was fired$/,
		run: (world, args) =>
			consumeEvent(world, eventName(arg(args, 0)), DEFAULT_EVENT_TIMEOUT_MS),
	},
	{
		pattern: /^the flag should be part of the event payload$/,
		run(world) {
			const event = world.lastConsumedEvent;
			const key = world.flag?.key;
			if (event?.type !== "change")
				throw new Error("no change event was consumed before this step");
			if (key === undefined)
				throw new Error("no flag was declared in this scenario");
			// EventDetails is a union over event types; only configuration-changed details carry flagsChanged.
			const raw = (event.details as { flagsChanged?: unknown } | undefined)
				?.flagsChanged;
			const changed = Array.isArray(raw) ? raw.map(String) : [];
			if (!changed.includes(key)) {
				throw new Error(
					`change event lists ${JSON.stringify(changed)}, expected it to contain "${key}"`,
				);
			}
		},
	},
	{
		pattern: /^the client should be in fatal state$/,
		run(world) {
			const status = requireClient(world).providerStatus;
			if (status !== ProviderStatus.FATAL)
				throw new Error(`client status is ${status}, expected FATAL`);
		},
	},
	{
		pattern: /^the connection is lost for (\d+)s$/,
		run(world, args) {
			const seconds = Number(arg(args, 0));
			world.outageStartedAtMs = Date.now();
			world.outageEventIndex = world.events.length;
			world.timeline.push(`outage ${seconds}s`);
			return world.environment.launchpad.restart(seconds);
		},
	},
	{
		pattern: /^the flag was modified$/,
		async run(world) {
			await world.environment.launchpad.change();
		},
	},
];
