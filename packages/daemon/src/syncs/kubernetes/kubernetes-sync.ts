/**
 * `core.openfeature.dev/<namespace>/<name>` source: the open-feature-operator FeatureFlag custom resource, read with
 * @kubernetes/client-node (loaded lazily). List, then watch from the list's resourceVersion; whenever the watch ends
 * (server-side timeout, 410 Gone, connection loss) list again and re-watch, so nothing changed in between is missed.
 * Connection failures after the first snapshot are retried with backoff; the last good flags are kept meanwhile.
 */
import { existsSync } from "node:fs";
import {
	sleep as abortableSleep,
	Backoff,
	type BackoffOptions,
} from "@flagd-ts/provider-core";
import type {
	CustomObjectsApi,
	KubeConfig,
	Watch,
} from "@kubernetes/client-node";
import { DaemonError } from "../../errors.js";
import { type Logger, silentLogger } from "../../logging/logger.js";
import { ChangeTrigger } from "../internal/change-trigger.js";
import { checkFlagDocument } from "../internal/check-flag-document.js";
import { describeError } from "../internal/describe-error.js";
import { loadOptionalModule } from "../internal/load-optional-module.js";
import type { SyncPayload, SyncSource } from "../sync-source.js";
import {
	FEATURE_FLAG_GROUP,
	FEATURE_FLAG_PLURAL,
	FEATURE_FLAG_VERSION,
	type FeatureFlagRef,
	featureFlagCollectionPath,
	flagSpecJson,
	parseFeatureFlagRef,
	resourceVersionOf,
} from "./feature-flag-resource.js";

export interface KubernetesSyncOptions {
	/** `namespace/name` (or with the `core.openfeature.dev/` prefix): the source id. */
	readonly uri: string;
	/** Kubeconfig file; when unset, the in-cluster service account config is used (flagd's behaviour). */
	readonly kubeconfigPath?: string | undefined;
	/** Environment for the in-cluster check (KUBERNETES_SERVICE_HOST/PORT). @default process.env */
	readonly env?: Readonly<Record<string, string | undefined>> | undefined;
	/** Server-side watch timeout; the watch is then re-listed and restarted. @default 300 s */
	readonly watchTimeoutS?: number | undefined;
	/** Reconnect delays after failures. @default 1 s doubling to 60 s */
	readonly backoff?: BackoffOptions | undefined;
	readonly logger?: Logger | undefined;
}

/** A watch that lasted at least this long counts as healthy: re-list at once and reset the backoff. */
const MIN_HEALTHY_WATCH_MS = 1000;

const SERVICE_ACCOUNT_TOKEN =
	"/var/run/secrets/kubernetes.io/serviceaccount/token";

interface Client {
	readonly api: CustomObjectsApi;
	readonly watch: Watch;
}

interface WatchEvent {
	readonly type: string;
	readonly object: unknown;
}

export class KubernetesSync implements SyncSource {
	readonly uri: string;
	private readonly ref: FeatureFlagRef;
	private readonly options: KubernetesSyncOptions;
	private readonly logger: Logger;
	private readonly backoff: Backoff;
	private client: Client | undefined;
	private ready = false;
	private lastJson: string | undefined;

	constructor(options: KubernetesSyncOptions) {
		this.uri = options.uri;
		this.options = options;
		const ref = parseFeatureFlagRef(options.uri);
		if (ref === undefined)
			throw new DaemonError(
				"SOURCE_URI_INVALID",
				`kubernetes source "${options.uri}": expected <namespace>/<name>`,
			);
		this.ref = ref;
		this.backoff = new Backoff(options.backoff);
		this.logger = (options.logger ?? silentLogger).child({
			source: options.uri,
			sync: "kubernetes",
		});
	}

	async init(_signal: AbortSignal): Promise<void> {
		if (this.client !== undefined) return;
		const k8s = await loadOptionalModule(
			"@kubernetes/client-node",
			"the kubernetes sync source",
			() => import("@kubernetes/client-node"),
		);
		const config: KubeConfig = new k8s.KubeConfig();
		try {
			if (
				this.options.kubeconfigPath !== undefined &&
				this.options.kubeconfigPath !== ""
			)
				config.loadFromFile(this.options.kubeconfigPath);
			else {
				// loadFromCluster() itself never fails; check what it needs so a missing config is reported now.
				const env = this.options.env ?? process.env;
				if (
					env.KUBERNETES_SERVICE_HOST === undefined ||
					!existsSync(SERVICE_ACCOUNT_TOKEN)
				)
					throw new Error(
						`not running in a cluster (KUBERNETES_SERVICE_HOST unset or ${SERVICE_ACCOUNT_TOKEN} missing) and KUBECONFIG is not set`,
					);
				config.loadFromCluster();
			}
		} catch (error: unknown) {
			throw new DaemonError(
				"SOURCE_UNAVAILABLE",
				`kubernetes source "${this.uri}": cannot load cluster config (KUBECONFIG or in-cluster): ${describeError(error)}`,
				{ cause: error },
			);
		}
		if (config.getCurrentCluster() === null)
			throw new DaemonError(
				"SOURCE_UNAVAILABLE",
				`kubernetes source "${this.uri}": kubeconfig has no current cluster`,
			);
		this.client = {
			api: config.makeApiClient(k8s.CustomObjectsApi),
			watch: new k8s.Watch(config),
		};
	}

	isReady(): boolean {
		return this.ready;
	}

	async resync(signal: AbortSignal): Promise<SyncPayload> {
		const { payload } = await this.list(signal);
		return payload;
	}

	async *sync(signal: AbortSignal): AsyncIterable<SyncPayload> {
		let listed = await this.list(signal);
		this.lastJson = listed.json;
		this.ready = true;
		yield listed.payload;
		while (!signal.aborted) {
			try {
				const watchStartedMs = Date.now();
				for await (const payload of this.watchUntilClosed(
					listed.resourceVersion,
					signal,
				))
					yield payload;
				if (signal.aborted) break;
				// A watch that ends at once (e.g. 410 on every attempt) must not become a tight list/watch loop.
				if (Date.now() - watchStartedMs < MIN_HEALTHY_WATCH_MS)
					await abortableSleep(this.backoff.nextDelayMs(), signal);
				else this.backoff.reset();
				if (signal.aborted) break;
				listed = await this.list(signal);
				if (listed.json !== this.lastJson) {
					this.lastJson = listed.json;
					yield listed.payload;
				}
			} catch (error: unknown) {
				if (signal.aborted) break;
				const delayMs = this.backoff.nextDelayMs();
				this.logger.warn(
					{ error: describeError(error), delayMs },
					"FeatureFlag list/watch failed; keeping the last good flags and retrying",
				);
				await abortableSleep(delayMs, signal);
			}
		}
	}

	/** Lists the one FeatureFlag; rejects when it is missing or has no valid flagSpec. */
	private async list(signal: AbortSignal): Promise<{
		payload: SyncPayload;
		json: string;
		resourceVersion: string | undefined;
	}> {
		await this.init(signal);
		const client = this.client;
		if (client === undefined)
			throw new DaemonError(
				"SOURCE_UNAVAILABLE",
				`kubernetes source "${this.uri}" is closed`,
			);
		let list: unknown;
		try {
			list = await client.api.listNamespacedCustomObject({
				group: FEATURE_FLAG_GROUP,
				version: FEATURE_FLAG_VERSION,
				namespace: this.ref.namespace,
				plural: FEATURE_FLAG_PLURAL,
				fieldSelector: `metadata.name=${this.ref.name}`,
			});
		} catch (error: unknown) {
			throw new DaemonError(
				"SOURCE_UNAVAILABLE",
				`kubernetes source "${this.uri}": listing FeatureFlags failed: ${describeError(error)}`,
				{ cause: error },
			);
		}
		const items = (list as { items?: unknown }).items;
		const item = Array.isArray(items)
			? items.find(
					(i) =>
						(i as { metadata?: { name?: unknown } })?.metadata?.name ===
						this.ref.name,
				)
			: undefined;
		if (item === undefined)
			throw new DaemonError(
				"SOURCE_UNAVAILABLE",
				`kubernetes source "${this.uri}": FeatureFlag ${this.ref.namespace}/${this.ref.name} not found`,
			);
		const json = this.toJson(item);
		return {
			payload: this.toPayload(json),
			json,
			resourceVersion: resourceVersionOf(list),
		};
	}

	private toJson(resource: unknown): string {
		const spec = flagSpecJson(resource);
		if ("reason" in spec)
			throw new DaemonError(
				"SOURCE_PAYLOAD_INVALID",
				`kubernetes source "${this.uri}": ${spec.reason}`,
			);
		const verdict = checkFlagDocument(spec.json, "json");
		if (!verdict.ok)
			throw new DaemonError(
				"SOURCE_PAYLOAD_INVALID",
				`kubernetes source "${this.uri}": ${verdict.reason}`,
			);
		return spec.json;
	}

	private toPayload(json: string): SyncPayload {
		return { source: this.uri, content: json, format: "json" };
	}

	/** Runs one watch; yields payloads for changed specs and returns when the watch ends (or must be re-listed). */
	private async *watchUntilClosed(
		resourceVersion: string | undefined,
		signal: AbortSignal,
	): AsyncIterable<SyncPayload> {
		const client = this.client;
		if (client === undefined) return;
		const events: WatchEvent[] = [];
		const trigger = new ChangeTrigger();
		let closed: { error: unknown } | undefined;
		const request = await client.watch.watch(
			featureFlagCollectionPath(this.ref.namespace),
			{
				fieldSelector: `metadata.name=${this.ref.name}`,
				resourceVersion,
				allowWatchBookmarks: true,
				timeoutSeconds: this.options.watchTimeoutS ?? 300,
			},
			(type: string, object: unknown) => {
				events.push({ type, object });
				trigger.notify();
			},
			(error: unknown) => {
				closed = { error };
				trigger.notify();
			},
		);
		const stop = (): void => request.abort();
		signal.addEventListener("abort", stop, { once: true });
		try {
			while (!signal.aborted) {
				for (
					let event = events.shift();
					event !== undefined;
					event = events.shift()
				) {
					if (event.type === "ERROR") {
						// Typically 410 Gone: our resourceVersion is too old. Re-list.
						this.logger.info(
							{ status: (event.object as { code?: unknown })?.code },
							"watch expired; re-listing",
						);
						return;
					}
					const payload = this.onEvent(event);
					if (payload !== undefined) yield payload;
				}
				if (closed !== undefined) {
					if (
						closed.error !== null &&
						closed.error !== undefined &&
						!signal.aborted
					)
						throw closed.error;
					return;
				}
				await trigger.wait(signal);
			}
		} finally {
			signal.removeEventListener("abort", stop);
			stop();
		}
	}

	private onEvent(event: WatchEvent): SyncPayload | undefined {
		if (event.type === "BOOKMARK") return undefined;
		if (event.type === "DELETED") {
			this.logger.warn(
				{},
				"FeatureFlag was deleted; keeping the last good flags until it is recreated",
			);
			this.lastJson = undefined;
			return undefined;
		}
		let json: string;
		try {
			json = this.toJson(event.object);
		} catch (error: unknown) {
			this.logger.warn(
				{ error: describeError(error) },
				"ignoring an invalid FeatureFlag; keeping the last good flags",
			);
			return undefined;
		}
		if (json === this.lastJson) return undefined;
		this.lastJson = json;
		this.backoff.reset();
		return this.toPayload(json);
	}
}
