/**
 * The transport ceiling for the throughput benchmark, run in its own process like the daemon:
 * `node --import tsx bench/support/ceiling-server.ts --ofrep-single <file> --ofrep-bulk <file>`.
 *
 * It binds the SAME listener kinds the daemon uses (listenMultiProtocol: HTTP/1.1 + h2c by preface sniffing for
 * the evaluation port; listenHttp1 for OFREP), with a plain connect-node adapter (same JSON options as the
 * daemon) whose ResolveBoolean answers a constant response, and an OFREP handler that reads the body and answers
 * the constant bytes the daemon produced for the same request. What the daemon does beyond this (CORS, metrics,
 * context building, evaluation, rendering) is what the "% of ceiling" figure measures.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { EvaluationServiceV1 } from "@flagd-ts/protocol";
import {
	listenHttp1,
	listenMultiProtocol,
	type RequestHandler,
} from "../../packages/daemon/src/transport/http-listener.js";

/** The ready line of this process. */
export interface CeilingReadyLine {
	readonly event: "ready";
	readonly pid: number;
	readonly ports: { readonly evaluation: number; readonly ofrep: number };
}

/** What the daemon answers for the throughput flag (see flag-documents.ts). */
const CONSTANT_RESOLUTION = {
	value: true,
	reason: "TARGETING_MATCH",
	variant: "on",
	metadata: {},
} as const;

function ofrepHandler(single: Buffer, bulk: Buffer): RequestHandler {
	return (req, res) => {
		const chunks: Buffer[] = [];
		req.on("data", (chunk: Buffer) => chunks.push(chunk));
		req.on("end", () => {
			const isBulk =
				(req.url ?? "").replace(/\?.*$/, "") === "/ofrep/v1/evaluate/flags";
			res.writeHead(200, { "Content-Type": "application/json" });
			res.end(isBulk ? bulk : single);
		});
	};
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			"ofrep-single": { type: "string" },
			"ofrep-bulk": { type: "string" },
		},
	});
	const singlePath = values["ofrep-single"];
	const bulkPath = values["ofrep-bulk"];
	if (singlePath === undefined || bulkPath === undefined)
		throw new Error(
			"ceiling-server: --ofrep-single and --ofrep-bulk are required",
		);
	const adapter = connectNodeAdapter({
		routes(router: ConnectRouter) {
			router.service(EvaluationServiceV1, {
				resolveBoolean: () => CONSTANT_RESOLUTION,
			});
		},
		jsonOptions: { alwaysEmitImplicit: true, ignoreUnknownFields: true },
	});
	const target = { host: "127.0.0.1", port: 0, maxHeaderBytes: 0 };
	const evaluation = await listenMultiProtocol(adapter, {
		...target,
		name: "ceiling-evaluation",
	});
	const ofrep = await listenHttp1(
		ofrepHandler(readFileSync(singlePath), readFileSync(bulkPath)),
		{ ...target, name: "ceiling-ofrep" },
	);
	const stop = (): void => {
		Promise.all([evaluation.close(200), ofrep.close(200)]).then(
			() => process.exit(0),
			(e: unknown) => {
				process.stderr.write(`ceiling-server: close failed: ${String(e)}\n`);
				process.exit(1);
			},
		);
	};
	process.once("SIGTERM", stop);
	process.once("SIGINT", stop);
	const line: CeilingReadyLine = {
		event: "ready",
		pid: process.pid,
		ports: { evaluation: evaluation.port ?? 0, ofrep: ofrep.port ?? 0 },
	};
	process.stdout.write(`${JSON.stringify(line)}\n`);
}

main().catch((e: unknown) => {
	process.stderr.write(
		`ceiling-server failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
	);
	process.exit(1);
});
