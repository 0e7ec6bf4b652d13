/**
 * TLS material for the `ssl` daemon config, generated at test time exactly as the testbed image does it: a server
 * key and certificate for CN=localhost (SAN localhost and 127.0.0.1) signed by the testbed's custom CA
 * (`ssl/custom-ca.key`, `ssl/custom-root-cert.crt`). Needs the `openssl` binary.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Paths of the generated material. */
export interface TlsMaterial {
	readonly serverCertPath: string;
	readonly serverKeyPath: string;
	/** The CA certificate providers must trust (the testbed's, read in place). */
	readonly caCertPath: string;
}

/** Writes `server-key.pem` and `server-cert.pem` into `dir`, signed by the CA in `testbedSslDir`. */
export async function generateServerCertificate(
	dir: string,
	testbedSslDir: string,
): Promise<TlsMaterial> {
	const serverKeyPath = path.join(dir, "server-key.pem");
	const serverCertPath = path.join(dir, "server-cert.pem");
	const csrPath = path.join(dir, "server.csr");
	const extPath = path.join(dir, "server.ext");
	const caCertPath = path.join(testbedSslDir, "custom-root-cert.crt");
	const caKeyPath = path.join(testbedSslDir, "custom-ca.key");
	await run("openssl", [
		"req",
		"-new",
		"-newkey",
		"rsa:2048",
		"-nodes",
		"-keyout",
		serverKeyPath,
		"-out",
		csrPath,
		"-subj",
		"/CN=localhost",
	]);
	await writeFile(
		extPath,
		"basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
	);
	await run("openssl", [
		"x509",
		"-req",
		"-in",
		csrPath,
		"-CA",
		caCertPath,
		"-CAkey",
		caKeyPath,
		// A serial file next to the CA would be written into the testbed folder; a random serial avoids that.
		"-set_serial",
		`0x${Date.now().toString(16)}`,
		"-days",
		"2",
		"-sha256",
		"-extfile",
		extPath,
		"-out",
		serverCertPath,
	]);
	return { serverCertPath, serverKeyPath, caCertPath };
}
