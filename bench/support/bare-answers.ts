/**
 * The daemon's exact answers to the throughput cases' requests (status, headers, body and, for gRPC, trailers),
 * captured once with node:http / node:http2 clients so the bare ceiling (bare-ceiling-server.ts) can replay them
 * byte for byte. Headers that the server's HTTP stack writes itself (date, connection, keep-alive) are left out;
 * the bare server's node:http / node:http2 add them as the daemon's do.
 */
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import { parseArgs } from "node:util";
import {
	type Endpoints,
	grpcFrame,
	JSON_BODY,
	OFREP_BODY,
	OFREP_BULK,
	OFREP_SINGLE,
	RESOLVE_BOOLEAN,
} from "./throughput-cases.js";

/** One recorded answer; `body` is base64. */
export interface BareAnswer {
	readonly status: number;
	readonly headers: readonly (readonly [string, string])[];
	readonly body: string;
	readonly trailers?: readonly (readonly [string, string])[];
}

/** Every answer the bare ceiling replays, by case. */
export interface BareAnswers {
	readonly connectHttp1: BareAnswer;
	readonly connectH2c: BareAnswer;
	readonly grpcH2c: BareAnswer;
	readonly ofrepSingle: BareAnswer;
	readonly ofrepBulk: BareAnswer;
}

const SERVER_OWNED = new Set([
	"date",
	"connection",
	"keep-alive",
	"transfer-encoding",
]);

function keep(
	headers: Record<string, string | string[] | undefined>,
): [string, string][] {
	const out: [string, string][] = [];
	for (const [name, value] of Object.entries(headers)) {
		if (name.startsWith(":") || SERVER_OWNED.has(name) || value === undefined)
			continue;
		for (const v of Array.isArray(value) ? value : [value]) out.push([name, v]);
	}
	return out;
}

function postHttp1(
	port: number,
	path: string,
	body: string,
): Promise<BareAnswer> {
	return new Promise((resolve, reject) => {
		const req = http.request(
			{
				host: "127.0.0.1",
				port,
				path,
				method: "POST",
				headers: { "content-type": "application/json" },
				agent: false,
			},
			(res) => {
				const chunks: Buffer[] = [];
				res.on("data", (c: Buffer) => chunks.push(c));
				res.once("end", () =>
					resolve({
						status: res.statusCode ?? 0,
						headers: keep(res.headers),
						body: Buffer.concat(chunks).toString("base64"),
					}),
				);
				res.once("error", reject);
			},
		);
		req.once("error", reject);
		req.end(body);
	});
}

function postH2c(
	port: number,
	contentType: string,
	body: Buffer,
): Promise<BareAnswer> {
	return new Promise((resolve, reject) => {
		const session = http2.connect(`http://127.0.0.1:${port}`);
		session.once("error", reject);
		const stream = session.request({
			":method": "POST",
			":path": RESOLVE_BOOLEAN,
			"content-type": contentType,
			te: "trailers",
		});
		let status = 0;
		let headers: [string, string][] = [];
		let trailers: [string, string][] | undefined;
		const chunks: Buffer[] = [];
		stream.once("response", (h) => {
			status = Number(h[":status"]);
			headers = keep(h);
		});
		stream.once("trailers", (t) => {
			trailers = keep(t);
		});
		stream.on("data", (c: Buffer) => chunks.push(c));
		stream.once("error", reject);
		stream.once("end", () => {
			session.close();
			resolve({
				status,
				headers,
				body: Buffer.concat(chunks).toString("base64"),
				...(trailers === undefined ? {} : { trailers }),
			});
		});
		stream.end(body);
	});
}

/** Captures the daemon's answers (see the file comment). */
export async function captureAnswers(target: Endpoints): Promise<BareAnswers> {
	const h2c = target.h2cPort ?? target.evaluationPort;
	return {
		connectHttp1: await postHttp1(
			target.evaluationPort,
			RESOLVE_BOOLEAN,
			JSON_BODY,
		),
		connectH2c: await postH2c(h2c, "application/json", Buffer.from(JSON_BODY)),
		grpcH2c: await postH2c(h2c, "application/grpc", grpcFrame()),
		ofrepSingle: await postHttp1(target.ofrepPort, OFREP_SINGLE, OFREP_BODY),
		ofrepBulk: await postHttp1(target.ofrepPort, OFREP_BULK, OFREP_BODY),
	};
}

/** Captures `target`'s answers into `file`, the `--answers <file>` of the ceiling scripts. */
export async function writeAnswersFile(
	file: string,
	target: Endpoints,
): Promise<void> {
	writeFileSync(file, JSON.stringify(await captureAnswers(target)));
}

/** The answers a ceiling script is given with `--answers <file>` (written from {@link captureAnswers}). */
export function answersFromArgs(script: string): BareAnswers {
	const { values } = parseArgs({ options: { answers: { type: "string" } } });
	if (values.answers === undefined)
		throw new Error(`${script}: --answers is required`);
	return JSON.parse(readFileSync(values.answers, "utf8")) as BareAnswers;
}
