/**
 * Validates deploy/kubernetes offline (no cluster can run here): every object against the Kubernetes OpenAPI
 * schemas (kubernetes-models), the flag content with our own parser in strict mode, the daemon arguments with our
 * own CLI config resolver, and the references between objects (selectors, ports, probes, RBAC, HPA target).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseFlagDocument } from "@flagd-ts/evaluator";
import { describe, expect, it } from "@jest/globals";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import {
	Role,
	RoleBinding,
} from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, Service, ServiceAccount } from "kubernetes-models/v1";
import { parseAllDocuments } from "yaml";
import { resolveDaemonConfig } from "../../packages/daemon/src/config/resolve-daemon-config.js";

const dir = join(__dirname, "../../deploy/kubernetes");

interface K8sObject {
	apiVersion: string;
	kind: string;
	metadata: { name: string; labels?: Record<string, string> };
	// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML; the schema check below types them.
	spec?: any;
	data?: Record<string, string>;
	// biome-ignore lint/suspicious/noExplicitAny: as above.
	[key: string]: any;
}

const manifestFiles = readdirSync(dir).filter(
	(f) => f.endsWith(".yaml") && f !== "kustomization.yaml",
);
const objects: Array<{ file: string; object: K8sObject }> =
	manifestFiles.flatMap((file) =>
		parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((doc) => {
			if (doc.errors.length > 0)
				throw new Error(`${file}: ${doc.errors[0]?.message}`);
			return { file, object: doc.toJS() as K8sObject };
		}),
	);

function find(kind: string, name: string): K8sObject {
	const hit = objects.find(
		(o) => o.object.kind === kind && o.object.metadata.name === name,
	);
	if (hit === undefined)
		throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
	return hit.object;
}

// biome-ignore lint/suspicious/noExplicitAny: each model class takes its own typed shape.
const models: Record<string, new (data: any) => { validate(): void }> = {
	"v1/ServiceAccount": ServiceAccount,
	"v1/ConfigMap": ConfigMap,
	"v1/Service": Service,
	"apps/v1/Deployment": Deployment,
	"rbac.authorization.k8s.io/v1/Role": Role,
	"rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
	"autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
	"policy/v1/PodDisruptionBudget": PodDisruptionBudget,
};

describe("deploy/kubernetes", () => {
	it.each(
		objects.map(
			(o) =>
				[
					`${o.file}: ${o.object.kind} ${o.object.metadata.name}`,
					o.object,
				] as const,
		),
	)("%s is valid against its schema", (_label, object) => {
		if (object.kind === "FeatureFlag") {
			expect(object.apiVersion).toBe("core.openfeature.dev/v1beta1");
			const parsed = parseFlagDocument(object.spec.flagSpec, { strict: true });
			expect(parsed.ok ? [] : parsed.errors).toEqual([]);
			return;
		}
		const Model = models[`${object.apiVersion}/${object.kind}`];
		expect(Model).toBeDefined();
		expect(() =>
			new (Model as NonNullable<typeof Model>)(object).validate(),
		).not.toThrow();
	});

	it("the schema check rejects a broken object (so the checks above can fail)", () => {
		const broken = structuredClone(find("Deployment", "flagd"));
		broken.spec.template.spec.containers[0].ports[0].containerPort = "8013";
		expect(() => new Deployment(broken).validate()).toThrow(/containerPort/);
	});

	it("kustomization lists every manifest except the sidecar example", () => {
		const kustomization = parseAllDocuments(
			readFileSync(join(dir, "kustomization.yaml"), "utf8"),
		)[0]?.toJS();
		expect([...kustomization.resources].sort()).toEqual(
			manifestFiles.filter((f) => f !== "sidecar-example.yaml").sort(),
		);
	});

	it("the ConfigMap's flag file parses in strict mode", () => {
		const flags = find("ConfigMap", "flagd-flags").data?.["flags.json"];
		const parsed = parseFlagDocument(flags ?? "", { strict: true });
		expect(
			parsed.ok
				? parsed.document.flags.map((f) => f.key).sort()
				: parsed.errors,
		).toEqual(["banner-text", "new-checkout"]);
	});

	describe.each(["flagd", "example-app"])("Deployment %s", (name) => {
		const deployment = find("Deployment", name);
		const pod = deployment.spec.template.spec;
		const daemon = pod.containers.find(
			(c: { name: string }) => c.name === "flagd",
		);

		it("selects its own pods", () => {
			expect(deployment.spec.template.metadata.labels).toMatchObject(
				deployment.spec.selector.matchLabels,
			);
		});

		it("passes arguments the daemon accepts", () => {
			const argv = (daemon.args as string[]).map((a) =>
				a.replace("$(POD_NAMESPACE)", "default"),
			);
			expect(argv[0]).toBe("start");
			const { config } = resolveDaemonConfig({ argv: argv.slice(1), env: {} });
			expect(config.sources.length).toBeGreaterThan(0);
		});

		it("probes readiness on /readyz and liveness on /healthz of the management port", () => {
			const ports = new Map<string, number>(
				daemon.ports.map((p: { name: string; containerPort: number }) => [
					p.name,
					p.containerPort,
				]),
			);
			expect(daemon.readinessProbe.httpGet.path).toBe("/readyz");
			expect(daemon.livenessProbe.httpGet.path).toBe("/healthz");
			const probePort = daemon.readinessProbe.httpGet.port;
			expect(
				typeof probePort === "number" ? probePort : ports.get(probePort),
			).toBe(8014);
		});

		it("runs as non-root without privilege escalation", () => {
			expect(pod.securityContext.runAsNonRoot).toBe(true);
			expect(daemon.securityContext.allowPrivilegeEscalation).toBe(false);
			expect(daemon.resources.requests.memory).toBeDefined();
		});
	});

	it.each(["flagd", "flagd-sync"])(
		"Service %s selects the daemon pods and targets declared ports",
		(name) => {
			const service = find("Service", name);
			const deployment = find("Deployment", "flagd");
			expect(deployment.spec.template.metadata.labels).toMatchObject(
				service.spec.selector,
			);
			const portNames = deployment.spec.template.spec.containers[0].ports.map(
				(p: { name: string }) => p.name,
			);
			for (const port of service.spec.ports)
				expect(portNames).toContain(port.targetPort);
		},
	);

	it("the evaluation Service exposes 8013 and 8016", () => {
		expect(
			find("Service", "flagd").spec.ports.map((p: { port: number }) => p.port),
		).toEqual([8013, 8016]);
	});

	it("RBAC lets the daemon's service account get/list/watch FeatureFlags", () => {
		const role = find("Role", "flagd-featureflag-reader");
		const binding = find("RoleBinding", "flagd-featureflag-reader");
		expect(role.rules).toContainEqual({
			apiGroups: ["core.openfeature.dev"],
			resources: ["featureflags"],
			verbs: ["get", "list", "watch"],
		});
		expect(binding.roleRef.name).toBe(role.metadata.name);
		expect(binding.subjects).toContainEqual({
			kind: "ServiceAccount",
			name: "flagd",
		});
		expect(
			find("Deployment", "flagd").spec.template.spec.serviceAccountName,
		).toBe("flagd");
	});

	it("the HPA scales the daemon Deployment", () => {
		const hpa = find("HorizontalPodAutoscaler", "flagd");
		expect(hpa.spec.scaleTargetRef).toEqual({
			apiVersion: "apps/v1",
			kind: "Deployment",
			name: "flagd",
		});
		expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
	});
});
