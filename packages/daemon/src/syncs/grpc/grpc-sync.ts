/**
 * `grpc://` / `grpcs://` source: a flagd.sync.v1 `SyncFlags` streaming client (push-based sync). Every message is
 * a full snapshot of the upstream's flags; `sync_context` is passed through. The stream is reconnected forever
 * with exponential backoff and jitter (reset once a stream delivers), including after a clean end from the server.
 * Only a failure before the very first snapshot rejects the iteration, as flagd exits on it.
 */
import { readFile } from "node:fs/promises";
import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { type Client, createClient } from "@connectrpc/connect";
import {
	createGrpcTransport,
	Http2SessionManager,
} from "@connectrpc/connect-node";
import { FLAGD_SELECTOR_HEADER } from "@flagd-ts/protocol";
import { FlagSyncService } from "@flagd-ts/protocol/sync-v1";
import {
	sleep as abortableSleep,
	Backoff,
	type BackoffOptions,
} from "@flagd-ts/provider-core";
import { DaemonError } from "../../errors.js";
import { type Logger, silentLogger } from "../../logging/logger.js";
import { checkFlagDocument } from "../internal/check-flag-document.js";
import { describeError } from "../internal/describe-error.js";
import type { SyncPayload, SyncSource } from "../sync-source.js";
import { type GrpcTarget, parseGrpcTarget } from "./grpc-target.js";

export interface GrpcSyncOptions {
	/** Target as configured (`host:port`, `grpc://…`, `grpcs://…`, `dns:…`, `uds:…`); also the source id. */
	readonly uri: string;
	/** TLS (also implied by `grpcs://`). @default false */
	readonly tls?: boolean | undefined;
	/** PEM CA certificate(s) to trust instead of the system roots. @default system roots */
	readonly certPath?: string | undefined;
	/** PEM client certificate for an upstream that requires one (mutual TLS); needs `clientKeyPath`. */
	readonly clientCertPath?: string | undefined;
	/** PEM private key of `clientCertPath`. */
	readonly clientKeyPath?: string | undefined;
	/** Extra gRPC metadata on every call (e.g. `authorization`). @default {} */
	readonly headers?: Readonly<Record<string, string>> | undefined;
	/** Sent as `provider_id`. @default "" */
	readonly providerId?: string | undefined;
	/** Sent as the `flagd-selector` header and the deprecated `selector` field. @default "" */
	readonly selector?: string | undefined;
	/** Largest message accepted. @default 4194304 bytes (4 MiB, gRPC's default) */
	readonly maxMsgSizeBytes?: number | undefined;
	/** Reconnect delays. @default 1 s doubling to 60 s, 50 % jitter */
	readonly backoff?: BackoffOptions | undefined;
	/**
	 * HTTP/2 keepalive PING interval, to notice dead connections. Above flagd's (and this daemon's) default
	 * `--keep-alive-min-time` of 30 s with a margin, so network jitter never makes an upstream count a strike.
	 * @default 45000 ms
	 */
	readonly pingIntervalMs?: number | undefined;
	readonly logger?: Logger | undefined;
}

const DEFAULT_MAX_MSG_SIZE_BYTES = 4 * 1024 * 1024;
const DEFAULT_PING_INTERVAL_MS = 45_000;

export class GrpcSync implements SyncSource {
	readonly uri: string;
	private readonly options: GrpcSyncOptions;
	private readonly target: GrpcTarget;
	private readonly logger: Logger;
	private readonly backoff: Backoff;
	private ready = false;
	private client: Client<typeof FlagSyncService> | undefined;
	private sessions: Http2SessionManager | undefined;
	private syncContext: Record<string, unknown> | undefined;
	private transportError: Error | undefined;

	constructor(options: GrpcSyncOptions) {
		this.uri = options.uri;
		this.options = options;
		this.target = parseGrpcTarget(options.uri, options.tls ?? false);
		this.backoff = new Backoff(options.backoff);
		this.logger = (options.logger ?? silentLogger).child({
			source: options.uri,
			sync: "grpc",
		});
		const hasCert = (options.clientCertPath ?? "") !== "";
		if (hasCert !== ((options.clientKeyPath ?? "") !== ""))
			throw new DaemonError(
				"CONFIG_INVALID",
				`grpc source "${options.uri}": clientCertPath and clientKeyPath go together`,
			);
		if (hasCert && !this.target.tls)
			throw new DaemonError(
				"CONFIG_INVALID",
				`grpc source "${options.uri}": a client certificate needs TLS (grpcs:// or tls: true)`,
			);
		const max = options.maxMsgSizeBytes ?? DEFAULT_MAX_MSG_SIZE_BYTES;
		if (!(Number.isInteger(max) && max > 0))
			throw new DaemonError(
				"CONFIG_INVALID",
				`grpc source "${options.uri}": maxMsgSizeBytes must be a positive integer`,
			);
	}

	async init(_signal: AbortSignal): Promise<void> {
		if (this.client !== undefined) return;
		const ca = await this.readPem("certPath", this.options.certPath);
		const cert = await this.readPem(
			"clientCertPath",
			this.options.clientCertPath,
		);
		const key = await this.readPem("clientKeyPath", this.options.clientKeyPath);
		const { socketPath } = this.target;
		const tlsFiles = {
			...(ca !== undefined ? { ca } : {}),
			...(cert !== undefined ? { cert } : {}),
			...(key !== undefined ? { key } : {}),
		};
		const nodeOptions = {
			...tlsFiles,
			createConnection: (authority: URL) =>
				this.observed(
					socketPath !== undefined
						? netConnect(socketPath)
						: this.target.tls
							? tlsConnect({
									...tlsFiles,
									host: authority.hostname,
									port: Number(authority.port || 443),
									ALPNProtocols: ["h2"],
									...(isIP(authority.hostname) === 0
										? { servername: authority.hostname }
										: {}),
								})
							: netConnect(Number(authority.port || 80), authority.hostname),
				),
		};
		const sessions = new Http2SessionManager(
			this.target.baseUrl,
			{
				pingIntervalMs: this.options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
			},
			nodeOptions,
		);
		const transport = createGrpcTransport({
			baseUrl: this.target.baseUrl,
			sessionManager: sessions,
			readMaxBytes: this.options.maxMsgSizeBytes ?? DEFAULT_MAX_MSG_SIZE_BYTES,
		});
		this.sessions = sessions;
		this.client = createClient(FlagSyncService, transport);
	}

	/**
	 * Keeps what the socket saw: connect reports a connection the upstream ended during or right after the TLS
	 * handshake only as a cancelled stream, while the socket saw the reason (an alert, or an upstream that closed
	 * the connection after the handshake without a word, as Node does for an untrusted client certificate).
	 */
	private observed(socket: Socket): Socket {
		this.transportError = undefined;
		let handshaken = false;
		socket.once("secureConnect", () => {
			handshaken = true;
		});
		socket.once("end", () => {
			if (handshaken && !this.ready && this.transportError === undefined)
				this.transportError = new Error(
					"the upstream closed the connection right after the TLS handshake",
				);
		});
		socket.on("error", (error) => {
			this.transportError = error;
		});
		return socket;
	}

	private async readPem(
		field: string,
		path: string | undefined,
	): Promise<Buffer | undefined> {
		if (path === undefined || path === "") return undefined;
		try {
			return await readFile(path);
		} catch (error: unknown) {
			throw new DaemonError(
				"SOURCE_UNAVAILABLE",
				`grpc source "${this.uri}": cannot read ${field} "${path}": ${describeError(error)}`,
				{ cause: error },
			);
		}
	}

	isReady(): boolean {
		return this.ready;
	}

	/** Full state on demand through the unary FetchAllFlags RPC (same provider id and selector). */
	async resync(signal: AbortSignal): Promise<SyncPayload> {
		const client = await this.connected(signal);
		try {
			const response = await client.fetchAllFlags(this.request(), {
				headers: this.headers(),
				signal,
			});
			return this.toPayload(response.flagConfiguration, this.syncContext);
		} catch (error: unknown) {
			throw this.wrap(error, "FetchAllFlags failed");
		}
	}

	async *sync(signal: AbortSignal): AsyncIterable<SyncPayload> {
		const client = await this.connected(signal);
		// Close the HTTP/2 session on abort even if the consumer never resumes this generator.
		const onAbort = (): void => this.close();
		signal.addEventListener("abort", onAbort, { once: true });
		try {
			while (!signal.aborted) {
				let delivered = false;
				try {
					const stream = client.syncFlags(this.request(), {
						headers: this.headers(),
						signal,
					});
					for await (const message of stream) {
						if (!delivered) this.streamHealthy();
						delivered = true;
						const context = message.syncContext as
							| Record<string, unknown>
							| undefined;
						const payload = this.toPayloadOrWarn(
							message.flagConfiguration,
							context,
						);
						if (payload === undefined) continue;
						this.syncContext = context;
						this.ready = true;
						yield payload;
					}
					if (signal.aborted) break;
					if (!this.ready)
						throw new DaemonError(
							"SOURCE_UNAVAILABLE",
							`grpc source "${this.uri}": stream ended before the first snapshot`,
						);
					this.logger.warn({}, "sync stream ended by the server; reconnecting");
				} catch (error: unknown) {
					if (signal.aborted) break;
					if (!this.ready) throw this.wrap(error, "SyncFlags failed");
					this.logger.warn(
						{ error: this.describe(error) },
						"sync stream failed; keeping the last good flags and reconnecting",
					);
				}
				const delayMs = this.backoff.nextDelayMs();
				this.logger.info(
					{ delayMs, attempt: this.backoff.attempts },
					"reconnecting sync stream",
				);
				await abortableSleep(delayMs, signal);
			}
		} finally {
			// The iteration is over (abort, first failure or the consumer stopped): drop the HTTP/2 session.
			signal.removeEventListener("abort", onAbort);
			this.close();
		}
	}

	private streamHealthy(): void {
		if (this.backoff.attempts > 0)
			this.logger.info(
				{ attempts: this.backoff.attempts },
				"sync stream reconnected",
			);
		this.backoff.reset();
	}

	private close(): void {
		this.sessions?.abort();
		this.sessions = undefined;
		this.client = undefined;
	}

	private async connected(
		signal: AbortSignal,
	): Promise<Client<typeof FlagSyncService>> {
		await this.init(signal);
		if (this.client === undefined)
			throw new DaemonError(
				"SOURCE_UNAVAILABLE",
				`grpc source "${this.uri}" is closed`,
			);
		return this.client;
	}

	private request(): { providerId: string; selector: string } {
		return {
			providerId: this.options.providerId ?? "",
			// Deprecated body field, still read by older flagd servers; newer ones read the header first.
			selector: this.options.selector ?? "",
		};
	}

	private headers(): Headers {
		const headers = new Headers(this.options.headers ?? {});
		if (this.options.selector !== undefined && this.options.selector !== "")
			headers.set(FLAGD_SELECTOR_HEADER, this.options.selector);
		return headers;
	}

	private toPayload(
		text: string,
		syncContext: Record<string, unknown> | undefined,
	): SyncPayload {
		const verdict = checkFlagDocument(text, "json");
		if (!verdict.ok)
			throw new DaemonError(
				"SOURCE_PAYLOAD_INVALID",
				`grpc source "${this.uri}": ${verdict.reason}`,
			);
		return {
			source: this.uri,
			content: text,
			format: "json",
			...(syncContext !== undefined ? { syncContext } : {}),
		};
	}

	/** Like toPayload, but after the first snapshot a bad one is logged and skipped (last good state kept). */
	private toPayloadOrWarn(
		text: string,
		syncContext: Record<string, unknown> | undefined,
	): SyncPayload | undefined {
		try {
			return this.toPayload(text, syncContext);
		} catch (error: unknown) {
			if (!this.ready) throw error;
			this.logger.warn(
				{ error: describeError(error) },
				"ignoring an invalid snapshot; keeping the last good flags",
			);
			return undefined;
		}
	}

	private wrap(error: unknown, what: string): DaemonError {
		if (error instanceof DaemonError) return error;
		return new DaemonError(
			"SOURCE_UNAVAILABLE",
			`grpc source "${this.uri}": ${what}: ${this.describe(error)}`,
			{ cause: error },
		);
	}

	/**
	 * connect reports an oversized message as resource_exhausted, or as a failed decompression when compressed; a
	 * TLS alert about certificates usually means the upstream requires a client certificate.
	 */
	private describe(error: unknown): string {
		const transport =
			this.transportError === undefined
				? ""
				: ` (connection: ${describeError(this.transportError)})`;
		const text = `${describeError(error)}${transport}`;
		if (
			/certificate required|alert (bad|unknown|handshake)|certificate_required|right after the TLS handshake/i.test(
				text,
			)
		)
			return `${text} (the upstream refused the TLS handshake: it may require a client certificate${
				(this.options.clientCertPath ?? "") === ""
					? "; set clientCertPath and clientKeyPath"
					: " signed by a CA it trusts"
			})`;
		if (/resource_exhausted|decompression failed|readMaxBytes/i.test(text))
			return `${text} (a snapshot may exceed maxMsgSizeBytes=${this.options.maxMsgSizeBytes ?? DEFAULT_MAX_MSG_SIZE_BYTES})`;
		return text;
	}
}
