/**
 * Generates a throw-away CA and a server certificate signed by it (SAN: localhost, 127.0.0.1, and any extra DNS
 * names) with the openssl CLI, in a fresh temp directory. For TLS tests with a custom CA (`certPath`).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** Paths and contents of the generated files. */
export interface TlsFixtures {
	readonly dir: string;
	readonly caCertPath: string;
	readonly serverCertPath: string;
	readonly serverKeyPath: string;
	readonly serverCert: Buffer;
	readonly serverKey: Buffer;
	/** Deletes the directory. */
	remove(): void;
}

/** A client certificate (extendedKeyUsage clientAuth) signed by the fixtures' CA, for mutual TLS. */
export interface ClientCertificate {
	readonly certPath: string;
	readonly keyPath: string;
}

/** Issues a client certificate for `commonName` from the CA of `fixtures`. */
export function createClientCertificate(
	fixtures: TlsFixtures,
	commonName: string,
): ClientCertificate {
	const p = (name: string): string => path.join(fixtures.dir, name);
	const openssl = (...args: string[]): void => {
		execFileSync("openssl", args, { stdio: "pipe" });
	};
	const base = `client-${commonName.replace(/[^a-z0-9-]/gi, "_")}`;
	openssl(
		"req",
		"-newkey",
		"rsa:2048",
		"-nodes",
		"-keyout",
		p(`${base}.key`),
		"-out",
		p(`${base}.csr`),
		"-subj",
		`/CN=${commonName}`,
	);
	writeFileSync(p(`${base}.cnf`), "extendedKeyUsage=clientAuth\n");
	openssl(
		"x509",
		"-req",
		"-in",
		p(`${base}.csr`),
		"-CA",
		p("ca.crt"),
		"-CAkey",
		p("ca.key"),
		"-CAcreateserial",
		"-out",
		p(`${base}.crt`),
		"-days",
		"2",
		"-extfile",
		p(`${base}.cnf`),
	);
	return { certPath: p(`${base}.crt`), keyPath: p(`${base}.key`) };
}

/** Creates a CA and a server certificate valid for `localhost`, `127.0.0.1` and `extraDnsNames`. */
export function createTlsFixtures(
	extraDnsNames: readonly string[] = [],
): TlsFixtures {
	const dir = mkdtempSync(path.join(tmpdir(), "flagd-tls-"));
	const p = (name: string): string => path.join(dir, name);
	const openssl = (...args: string[]): void => {
		execFileSync("openssl", args, { stdio: "pipe" });
	};
	openssl(
		"req",
		"-x509",
		"-newkey",
		"rsa:2048",
		"-nodes",
		"-keyout",
		p("ca.key"),
		"-out",
		p("ca.crt"),
		"-days",
		"2",
		"-subj",
		"/CN=flagd-ts test CA",
	);
	openssl(
		"req",
		"-newkey",
		"rsa:2048",
		"-nodes",
		"-keyout",
		p("server.key"),
		"-out",
		p("server.csr"),
		"-subj",
		"/CN=localhost",
	);
	const san = [
		"DNS:localhost",
		"IP:127.0.0.1",
		...extraDnsNames.map((n) => `DNS:${n}`),
	].join(",");
	writeFileSync(p("ext.cnf"), `subjectAltName=${san}\n`);
	openssl(
		"x509",
		"-req",
		"-in",
		p("server.csr"),
		"-CA",
		p("ca.crt"),
		"-CAkey",
		p("ca.key"),
		"-CAcreateserial",
		"-out",
		p("server.crt"),
		"-days",
		"2",
		"-extfile",
		p("ext.cnf"),
	);
	return {
		dir,
		caCertPath: p("ca.crt"),
		serverCertPath: p("server.crt"),
		serverKeyPath: p("server.key"),
		serverCert: readFileSync(p("server.crt")),
		serverKey: readFileSync(p("server.key")),
		remove: () => rmSync(dir, { recursive: true, force: true }),
	};
}
