/**
 * A daemon syncing from another daemon that requires client certificates on its sync port
 * (`--sync-client-ca-path`): a `grpcs://` source with `clientCertPath`/`clientKeyPath` is served; one without a
 * certificate, or with one from another CA, is refused with an error that names the cause. Two real daemons over
 * TLS on 127.0.0.1, certificates made with openssl at test time.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { defaultDaemonConfig } from "../../packages/daemon/src/runtime/default-daemon-config.js";
import {
	type RunningDaemon,
	startDaemon,
} from "../../packages/daemon/src/runtime/start-daemon.js";
import type { SourceConfig } from "../../packages/daemon/src/syncs/source-config.js";
import {
	type ClientCertificate,
	createClientCertificate,
	createTlsFixtures,
	type TlsFixtures,
} from "../support/tls-fixtures.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
	waitFor,
} from "./daemon-harness.js";

describe("gRPC sync from a daemon that requires client certificates", () => {
	let tls: TlsFixtures;
	let otherCa: TlsFixtures;
	let edgeCert: ClientCertificate;
	let strangerCert: ClientCertificate;
	let upstream: RunningDaemon;
	const edges: RunningDaemon[] = [];

	beforeAll(async () => {
		tls = createTlsFixtures();
		otherCa = createTlsFixtures();
		edgeCert = createClientCertificate(tls, "edge-daemon");
		strangerCert = createClientCertificate(otherCa, "stranger");
		upstream = await startTestDaemon(
			[new MemorySource("mem:mtls-upstream", BASIC_FLAGS)],
			{
				tls: { certPath: tls.serverCertPath, keyPath: tls.serverKeyPath },
				syncClientCaPath: tls.caCertPath,
			},
		);
		await upstream.ready;
	});

	afterAll(async () => {
		await Promise.all(edges.map((e) => e.close()));
		await upstream.close();
		tls.remove();
		otherCa.remove();
	});

	async function startEdge(
		source: Partial<SourceConfig>,
	): Promise<RunningDaemon> {
		const edge = await startDaemon(
			defaultDaemonConfig({
				port: 0,
				managementPort: 0,
				ofrepPort: 0,
				syncPort: 0,
				bindAddress: "127.0.0.1",
				sources: [
					{
						uri: `grpcs://localhost:${upstream.ports.sync}`,
						provider: "grpc",
						certPath: tls.caCertPath,
						...source,
					},
				],
			}),
		);
		edges.push(edge);
		return edge;
	}

	it("syncs with a client certificate from the upstream's client CA", async () => {
		const edge = await startEdge({
			clientCertPath: edgeCert.certPath,
			clientKeyPath: edgeCert.keyPath,
		});
		await edge.ready;
		await waitFor(
			() => edge.store.get("bool-flag") !== undefined,
			10_000,
			"bool-flag on the edge",
		);
	});

	it("is refused without a client certificate, naming the cause", async () => {
		const edge = await startEdge({});
		const failure = await edge.ready.then(
			() => undefined,
			(e: unknown) => e,
		);
		expect(failure).toBeInstanceOf(Error);
		expect(String((failure as Error).message)).toMatch(
			/certificate required.*it may require a client certificate; set clientCertPath and clientKeyPath/is,
		);
	});

	it("is refused with a client certificate from another CA, naming the cause", async () => {
		const edge = await startEdge({
			clientCertPath: strangerCert.certPath,
			clientKeyPath: strangerCert.keyPath,
		});
		const failure = await edge.ready.then(
			() => undefined,
			(e: unknown) => e,
		);
		expect(failure).toBeInstanceOf(Error);
		expect(String((failure as Error).message)).toMatch(
			/it may require a client certificate signed by a CA it trusts/,
		);
	});
});
