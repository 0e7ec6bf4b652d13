// The coordinator's timeout path needs a daemon whose close() never finishes, which the real daemon cannot be made
// to do on purpose: this test uses a minimal stand-in RunningDaemon for that one behaviour. Everything else about
// shutdown is tested against the real daemon in run-start.test.ts and cli.test.ts.
import { EventEmitter } from "node:events";
import { describe, expect, it } from "@jest/globals";
import { silentLogger } from "../logging/logger.js";
import type { RunningDaemon } from "../runtime/start-daemon.js";
import { ShutdownCoordinator } from "./shutdown-coordinator.js";

describe("ShutdownCoordinator", () => {
	it("forces exit 1 when the graceful close outlasts the timeout", async () => {
		const events = new EventEmitter();
		const forced: number[] = [];
		const coordinator = new ShutdownCoordinator({
			events,
			logger: silentLogger,
			forceExit: (code) => void forced.push(code),
			timeoutMs: 30,
		});
		const hanging = {
			ports: { evaluation: 1, management: 2, sync: 3, ofrep: 4 },
			ready: Promise.resolve(),
			close: () => new Promise<void>(() => {}),
		} as unknown as RunningDaemon;
		void coordinator.run(hanging);
		events.emit("SIGTERM");
		const deadline = Date.now() + 5_000;
		while (forced.length === 0 && Date.now() < deadline)
			await new Promise((r) => setTimeout(r, 10));
		expect(forced).toEqual([1]);
		coordinator.dispose();
		expect(events.listenerCount("SIGTERM")).toBe(0);
	});
});
