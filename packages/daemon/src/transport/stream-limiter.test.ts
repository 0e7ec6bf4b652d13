import { Code, ConnectError } from "@connectrpc/connect";
import { FlagSyncService } from "@flagd-ts/protocol";
import { describe, expect, it } from "@jest/globals";
import { limitServerStreams, StreamLimiter } from "./stream-limiter.js";

describe("StreamLimiter", () => {
	it("refuses over the cap with RESOURCE_EXHAUSTED naming the option, and frees slots on release", () => {
		const limiter = new StreamLimiter({
			max: 2,
			what: "sync streams",
			option: "--max-sync-streams",
		});
		limiter.acquire();
		limiter.acquire();
		let refused: unknown;
		try {
			limiter.acquire();
		} catch (e: unknown) {
			refused = e;
		}
		expect(refused).toBeInstanceOf(ConnectError);
		expect((refused as ConnectError).code).toBe(Code.ResourceExhausted);
		expect((refused as ConnectError).rawMessage).toBe(
			"too many open sync streams: the limit is 2 (--max-sync-streams)",
		);
		limiter.release();
		limiter.acquire();
		expect(limiter.open).toBe(2);
	});
});

describe("limitServerStreams", () => {
	it("counts a server stream while it runs, releases it when it ends or is abandoned, and leaves unary methods alone", async () => {
		const limiter = new StreamLimiter({
			max: 1,
			what: "sync streams",
			option: "--max-sync-streams",
		});
		const getMetadata = () => ({ metadata: {} });
		const impl = limitServerStreams(
			FlagSyncService,
			{
				async *syncFlags() {
					yield { flagConfiguration: "1", syncContext: {} };
					yield { flagConfiguration: "2", syncContext: {} };
				},
				getMetadata,
			},
			limiter,
		);
		expect(impl.getMetadata).toBe(getMetadata);
		const syncFlags = impl.syncFlags as unknown as (
			req: unknown,
			ctx: unknown,
		) => AsyncGenerator<unknown>;
		const first = syncFlags({}, {});
		await first.next();
		expect(limiter.open).toBe(1);
		await expect(syncFlags({}, {}).next()).rejects.toMatchObject({
			code: Code.ResourceExhausted,
		});
		await first.return(undefined); // the client went away
		expect(limiter.open).toBe(0);
		const second = syncFlags({}, {});
		const seen: unknown[] = [];
		for await (const message of second) seen.push(message);
		expect(seen).toHaveLength(2);
		expect(limiter.open).toBe(0);
	});
});
