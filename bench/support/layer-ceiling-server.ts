/**
 * Two servers between the bare ceiling (bare-ceiling-server.ts) and the daemon, for telling where the daemon's
 * cost per request comes from (every throughput case: Connect and OFREP over HTTP/1.1, Connect and gRPC over h2c): `node bench/support/layer-ceiling-server.ts --answers <file>` (bundled by
 * child-process.ts). Both answer the daemon's recorded bytes (bare-answers.ts) from one request handler, as the
 * bare ceiling does, after reading the body:
 * - `compat`: a plain `node:http2` server with a request handler, so every stream goes through Node's
 *   compatibility objects (`Http2ServerRequest`/`Http2ServerResponse`), which the daemon's handlers use and the
 *   bare ceiling, on the stream API, does not;
 * - `listener`: the daemon's own evaluation-port listener (`listenMultiProtocol`: HTTP/1.1 and h2c on one port,
 *   the connection limits, the HTTP/2 request-body deadline) around the same handler.
 * daemon-variants-ab.ts `--layers` runs them beside the daemons and the bare ceiling. With `BENCH_GC_TALLY=1` in
 * the environment it counts garbage collections and answers SIGWINCH with them (gc-tally.ts).
 */
import { once } from "node:events";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import {
	listenMultiProtocol,
	type NodeRequest,
	type NodeResponse,
	type RunningListener,
} from "../../packages/daemon/src/transport/http-listener.js";
import {
	answersFromArgs,
	type BareAnswer,
	type BareAnswers,
} from "./bare-answers.js";
import { installGcTally } from "./gc-tally.js";

/** The ready line of this process. */
export interface LayerCeilingReadyLine {
	readonly event: "ready";
	readonly pid: number;
	readonly ports: { readonly compat: number; readonly listener: number };
}

interface Reply {
	readonly status: number;
	readonly headers: Record<string, string>;
	readonly body: Buffer;
	readonly trailers: Record<string, string> | undefined;
}

function reply(answer: BareAnswer): Reply {
	return {
		status: answer.status,
		headers: Object.fromEntries(answer.headers),
		body: Buffer.from(answer.body, "base64"),
		trailers:
			answer.trailers === undefined
				? undefined
				: Object.fromEntries(answer.trailers),
	};
}

const OFREP_BULK = "/ofrep/v1/evaluate/flags";
const OFREP_SINGLE_PREFIX = "/ofrep/v1/evaluate/flags/";
const ignore = (): void => {};

/** Answers every request with the recorded answer of its case, once the body has been read. */
function recordedAnswers(
	answers: BareAnswers,
): (req: NodeRequest, res: NodeResponse) => void {
	const connectHttp1 = reply(answers.connectHttp1);
	const connectH2c = reply(answers.connectH2c);
	const grpc = reply(answers.grpcH2c);
	const ofrepSingle = reply(answers.ofrepSingle);
	const ofrepBulk = reply(answers.ofrepBulk);
	const http1Answer = (url: string): Reply =>
		url === OFREP_BULK
			? ofrepBulk
			: url.startsWith(OFREP_SINGLE_PREFIX)
				? ofrepSingle
				: connectHttp1;
	return (req, res) => {
		const answer =
			req.httpVersionMajor === 1
				? http1Answer(req.url ?? "")
				: String(req.headers["content-type"] ?? "").startsWith(
							"application/grpc",
						)
					? grpc
					: connectH2c;
		req.on("data", ignore);
		req.on("end", () => {
			res.writeHead(answer.status, answer.headers);
			if (answer.trailers !== undefined && "addTrailers" in res)
				res.addTrailers(answer.trailers);
			res.end(answer.body);
		});
	};
}

async function main(): Promise<void> {
	installGcTally();
	const answers = answersFromArgs("layer-ceiling-server");
	const handler = recordedAnswers(answers);
	const compat = http2.createServer(handler);
	const sessions = new Set<http2.ServerHttp2Session>();
	compat.on("session", (session) => {
		sessions.add(session);
		session.once("close", () => sessions.delete(session));
	});
	compat.listen(0, "127.0.0.1");
	await once(compat, "listening");
	const compatPort = (compat.address() as AddressInfo).port;
	const listener: RunningListener = await listenMultiProtocol(handler, {
		port: 0,
		host: "127.0.0.1",
		maxHeaderBytes: 0,
		name: "layer",
	});
	const stop = (): void => {
		for (const session of sessions) session.destroy();
		compat.close();
		void listener.close(0).then(() => process.exit(0));
	};
	process.once("SIGTERM", stop);
	process.once("SIGINT", stop);
	const line: LayerCeilingReadyLine = {
		event: "ready",
		pid: process.pid,
		ports: { compat: compatPort, listener: listener.port as number },
	};
	process.stdout.write(`${JSON.stringify(line)}\n`);
}

main().catch((e: unknown) => {
	process.stderr.write(
		`layer-ceiling-server failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
	);
	process.exit(1);
});
