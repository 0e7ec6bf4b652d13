/**
 * Turns SIGTERM/SIGINT (and uncaught errors) into one graceful shutdown of the running daemon. It listens from the
 * moment it is created, before the daemon starts: a signal sent while the daemon is still starting is remembered
 * and honoured as soon as it is up, instead of killing the process half-way (and a signal sent right after the
 * "started" log line cannot slip past a listener that is not there yet).
 */
import { isDaemonError } from "../errors.js";
import type { Logger } from "../logging/logger.js";
import type { RunningDaemon } from "../runtime/start-daemon.js";
import type { CliEvents } from "./cli-io.js";

export interface ShutdownCoordinatorOptions {
	readonly events: CliEvents;
	readonly logger: Logger;
	/** Ends the process at once (second signal, hung shutdown). */
	readonly forceExit: (code: number) => void;
	/** Hard cap on a graceful close before forceExit(1). */
	readonly timeoutMs: number;
	/**
	 * Reports the problem that stops the daemon with exit code 1 (a source that failed before its first sync):
	 * one line, said once. @default logged at error level
	 */
	readonly reportFatal?: (message: string, error: unknown) => void;
}

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

/** Catalogued errors are expected failures whose message says it all; anything else keeps its stack. */
function loggable(e: unknown): unknown {
	return isDaemonError(e) ? e.message : e;
}

export class ShutdownCoordinator {
	readonly #options: ShutdownCoordinatorOptions;
	readonly #listeners = new Map<string, (...args: unknown[]) => void>();
	#request: { code: number; reason: string } | undefined;
	#daemon: RunningDaemon | undefined;
	#resolve: ((exitCode: number) => void) | undefined;

	constructor(options: ShutdownCoordinatorOptions) {
		this.#options = options;
		const { logger } = options;
		for (const signal of SIGNALS) {
			this.#listeners.set(signal, () => {
				if (this.#request === undefined) {
					this.#requestStop(0, signal);
					return;
				}
				logger.warn({ signal }, "second signal during shutdown, exiting now");
				options.forceExit(1);
			});
		}
		// A stray rejected promise is a bug to log, not a reason to drop every client (Node would exit by default).
		this.#listeners.set("unhandledRejection", (reason: unknown) => {
			logger.error(
				{ error: reason },
				"unhandled promise rejection (daemon keeps running)",
			);
		});
		// After an uncaught exception the process state is unknown: stop gracefully and report failure.
		this.#listeners.set("uncaughtException", (e: unknown) => {
			logger.error({ error: e }, "uncaught exception, stopping");
			if (this.#request === undefined)
				this.#requestStop(1, "uncaught exception");
		});
		for (const [event, listener] of this.#listeners)
			options.events.on(event, listener);
	}

	/** True when a signal arrived before the daemon was handed over. */
	get stopRequested(): boolean {
		return this.#request !== undefined;
	}

	/**
	 * Hands over the started daemon; resolves with the exit code once it has closed: 0 after a signal, 1 after a
	 * source startup failure (ready rejects), a failed close or an uncaught exception.
	 */
	run(daemon: RunningDaemon): Promise<number> {
		return new Promise<number>((resolve) => {
			this.#daemon = daemon;
			this.#resolve = resolve;
			daemon.ready.then(
				() =>
					this.#options.logger.info({}, "flagd ready: every source has synced"),
				(e: unknown) => {
					const message = `a sync source failed before its first sync: ${e instanceof Error ? e.message : String(e)}`;
					if (this.#options.reportFatal !== undefined)
						this.#options.reportFatal(message, e);
					else this.#options.logger.error({ error: loggable(e) }, message);
					if (this.#request === undefined)
						this.#requestStop(1, "source startup failure");
				},
			);
			if (this.#request !== undefined) this.#close(daemon, this.#request.code);
		});
	}

	/** Stops listening (after the daemon closed, or when it never started). */
	dispose(): void {
		for (const [event, listener] of this.#listeners)
			this.#options.events.off(event, listener);
	}

	#requestStop(code: number, reason: string): void {
		this.#request = { code, reason };
		this.#options.logger.info({ reason }, "flagd shutting down");
		if (this.#daemon !== undefined) this.#close(this.#daemon, code);
	}

	#close(daemon: RunningDaemon, code: number): void {
		const { logger, timeoutMs, forceExit } = this.#options;
		const timer = setTimeout(() => {
			logger.error({ timeoutMs }, "graceful shutdown timed out, forcing exit");
			forceExit(1);
		}, timeoutMs);
		timer.unref();
		const finish = (exitCode: number): void => {
			clearTimeout(timer);
			this.dispose();
			logger.info({ exitCode }, "flagd exiting");
			this.#resolve?.(exitCode);
		};
		daemon.close().then(
			() => finish(code),
			(e: unknown) => {
				logger.error({ error: e }, "error while shutting down");
				finish(1);
			},
		);
	}
}
