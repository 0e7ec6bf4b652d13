/**
 * The physical-limit ceiling of the throughput benchmark, in its own process like the daemon:
 * `node bench/support/bare-ceiling-server.ts --answers <file>` (bundled by child-process.ts).
 *
 * A bare `node:http` server (HTTP/1.1: Connect JSON and OFREP) and a bare `node:http2` server (h2c: Connect JSON
 * and gRPC, told apart by content-type) that read each request body to its end and answer the daemon's own
 * recorded bytes (bare-answers.ts): status, headers, body and gRPC trailers, all precomputed. No routing
 * framework, no limits, no per-request allocation beyond what Node itself does: the daemon's figure divided by
 * this one is the share of what node:http / node:http2 can do on this machine that the daemon reaches.
 *
 * With `BENCH_GC_TALLY=1` in the environment it counts garbage collections and answers SIGWINCH with them
 * (gc-tally.ts); started with gc-tally.ts's DAEMON_YOUNG_GENERATION_NODE_ARGS it is the same ceiling with the
 * daemon's young generation.
 */
import http from "node:http";
import http2 from "node:http2";
import {
	answersFromArgs,
	type BareAnswer,
	type BareAnswers,
} from "./bare-answers.js";
import { installGcTally } from "./gc-tally.js";

/** The ready line of this process. */
export interface BareCeilingReadyLine {
	readonly event: "ready";
	readonly pid: number;
	readonly ports: { readonly http1: number; readonly h2c: number };
}

const RESOLVE_BOOLEAN = "/flagd.evaluation.v1.Service/ResolveBoolean";
const OFREP_BULK = "/ofrep/v1/evaluate/flags";
const OFREP_SINGLE_PREFIX = "/ofrep/v1/evaluate/flags/";

interface Http1Reply {
	readonly status: number;
	/** Flat [name, value, name, value, …], as writeHead accepts it. */
	readonly headers: string[];
	/** A string when the bytes are valid UTF-8: node:http then sends head and body in one write (a Buffer takes two). */
	readonly body: Buffer | string;
}

interface H2Reply {
	readonly headers: http2.OutgoingHttpHeaders;
	readonly body: Buffer;
	readonly trailers: http2.OutgoingHttpHeaders | undefined;
}

function http1Reply(answer: BareAnswer): Http1Reply {
	const bytes = Buffer.from(answer.body, "base64");
	const text = bytes.toString("utf8");
	return {
		status: answer.status,
		headers: answer.headers.flat(),
		body: Buffer.from(text, "utf8").equals(bytes) ? text : bytes,
	};
}

function h2Reply(answer: BareAnswer): H2Reply {
	const headers: http2.OutgoingHttpHeaders = { ":status": answer.status };
	for (const [name, value] of answer.headers) headers[name] = value;
	return {
		headers,
		body: Buffer.from(answer.body, "base64"),
		trailers:
			answer.trailers === undefined
				? undefined
				: Object.fromEntries(answer.trailers),
	};
}

const ignore = (): void => {};

function startHttp1(answers: BareAnswers): http.Server {
	const connect = http1Reply(answers.connectHttp1);
	const single = http1Reply(answers.ofrepSingle);
	const bulk = http1Reply(answers.ofrepBulk);
	return http.createServer((req, res) => {
		const url = req.url ?? "";
		const reply =
			url === RESOLVE_BOOLEAN
				? connect
				: url === OFREP_BULK
					? bulk
					: url.startsWith(OFREP_SINGLE_PREFIX)
						? single
						: undefined;
		req.on("data", ignore);
		req.on("end", () => {
			if (reply === undefined) {
				res.writeHead(404);
				res.end();
				return;
			}
			res.writeHead(reply.status, reply.headers);
			res.end(reply.body);
		});
	});
}

function startH2c(answers: BareAnswers): http2.Http2Server {
	const connect = h2Reply(answers.connectH2c);
	const grpc = h2Reply(answers.grpcH2c);
	const server = http2.createServer();
	server.on("stream", (stream, headers) => {
		const reply = String(headers["content-type"] ?? "").startsWith(
			"application/grpc",
		)
			? grpc
			: connect;
		stream.on("data", ignore);
		stream.on("end", () => {
			const trailers = reply.trailers;
			if (trailers === undefined) {
				stream.respond(reply.headers);
			} else {
				stream.respond(reply.headers, { waitForTrailers: true });
				stream.once("wantTrailers", () => stream.sendTrailers(trailers));
			}
			stream.end(reply.body);
		});
		stream.on("error", ignore);
	});
	return server;
}

function listen(server: http.Server | http2.Http2Server): Promise<number> {
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			resolve(
				typeof address === "object" && address !== null ? address.port : 0,
			);
		});
	});
}

async function main(): Promise<void> {
	installGcTally();
	const answers = answersFromArgs("bare-ceiling-server");
	const h1 = startHttp1(answers);
	const h2 = startH2c(answers);
	const sessions = new Set<http2.ServerHttp2Session>();
	h2.on("session", (session) => {
		sessions.add(session);
		session.once("close", () => sessions.delete(session));
	});
	const ports = { http1: await listen(h1), h2c: await listen(h2) };
	const stop = (): void => {
		h1.closeAllConnections();
		for (const session of sessions) session.destroy();
		h1.close();
		h2.close();
		process.exit(0);
	};
	process.once("SIGTERM", stop);
	process.once("SIGINT", stop);
	const line: BareCeilingReadyLine = {
		event: "ready",
		pid: process.pid,
		ports,
	};
	process.stdout.write(`${JSON.stringify(line)}\n`);
}

main().catch((e: unknown) => {
	process.stderr.write(
		`bare-ceiling-server failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
	);
	process.exit(1);
});
