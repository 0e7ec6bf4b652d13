import { describe, expect, it } from "@jest/globals";
import { encodeEnvelope, readEnvelopes } from "./envelope-reader.js";
import { isFlagdWebError } from "./errors.js";

function bodyOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
	return new ReadableStream({
		start(controller) {
			for (const c of chunks) controller.enqueue(c);
			controller.close();
		},
	});
}

function frame(flags: number, json: string): Uint8Array {
	const out = encodeEnvelope(json);
	out[0] = flags;
	return out;
}

async function collect(
	body: ReadableStream<Uint8Array>,
	max = 1024,
): Promise<Array<[number, string]>> {
	const out: Array<[number, string]> = [];
	for await (const e of readEnvelopes(body, max))
		out.push([e.flags, new TextDecoder().decode(e.data)]);
	return out;
}

describe("readEnvelopes", () => {
	const a = frame(0, '{"type":"provider_ready"}');
	const b = frame(2, "{}");

	it("reads several frames from one chunk", async () => {
		const both = new Uint8Array([...a, ...b]);
		expect(await collect(bodyOf([both]))).toEqual([
			[0, '{"type":"provider_ready"}'],
			[2, "{}"],
		]);
	});

	it("reassembles frames split at every byte", async () => {
		const bytes = [...a, ...b];
		const chunks = bytes.map((x) => new Uint8Array([x]));
		expect(await collect(bodyOf(chunks))).toHaveLength(2);
	});

	it("rejects a frame above the size limit before buffering it", async () => {
		await expect(collect(bodyOf([a]), 4)).rejects.toMatchObject({
			code: "resource_exhausted",
		});
	});

	it("rejects a body that ends inside a frame", async () => {
		const error = await collect(bodyOf([a.subarray(0, 8)])).catch(
			(e: unknown) => e,
		);
		expect(isFlagdWebError(error)).toBe(true);
		expect((error as { code: string }).code).toBe("internal");
	});
});
