/**
 * Every kustomization under k8s/ (the base and each overlay), rendered by the renderer in
 * kustomize.ts, must (1) validate against the Kubernetes API schemas (kubernetes-models), with no
 * field the API does not know, (2) agree with the hub it runs: ports, probe paths, the config file
 * parsed by the hub's own schema, the drain timing, and (3) wire its objects together: selectors,
 * the HPA target, references to ConfigMaps and Secrets, network policy. A real kustomize
 * (`kustomize` or `kubectl kustomize`, installed by scripts/services/install.sh) must render the same.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { loadKeys } from '../../src/auth/keys.js';
import { type Config, loadConfig, parseConfig } from '../../src/config.js';
import { INSTALL_COMMAND, kustomizeCommand } from '../services/requirements.js';
import {
  type Container,
  containersOf,
  hubRoutes,
  kustomizations,
  list,
  obj,
  podLabels,
  preStopSeconds,
  ROOT,
  resolvePort,
  selects,
} from './helpers.js';
import { isObject, type JsonObject, type K8sObject, podSpecOf, render } from './kustomize.js';
import { MODEL_MODULES, strictFieldProblems } from './strict-fields.js';

/** Seconds left, after the preStop sleep and the hub's drain, to close Kafka and Redis and exit. */
const SHUTDOWN_MARGIN_SECONDS = 10;
/** The custom metric the HPA scales on (prometheus-adapter; see k8s/base/hpa.yaml). */
const CONNECTIONS_METRIC = 'switchboard_connections';
/** Stand-ins for Secret values an overlay does not ship (production creates its Secret itself). */
const SAMPLE_SECRET_VALUES: Record<string, string> = {
  'api-key': 'sample-api-key-0123456789abcdef',
  'redis-url': 'rediss://switchboard:password@redis.example.internal:6379',
  'jwt-secret': 'sample-jwt-secret-0123456789abcdef',
};

const ROUTES = hubRoutes();
const DEFAULT_PORT = parseConfig({}).port;
const temp = mkdtempSync(join(tmpdir(), 'switchboard-k8s-'));
after(() => rmSync(temp, { recursive: true, force: true }));

/** One rendered kustomization and the hub parts of it. */
interface Rendered {
  dir: string;
  objects: K8sObject[];
  hub: K8sObject;
  container: Container;
  configFile: string;
  configText: string;
  config: Config;
}

function find(objects: readonly K8sObject[], kind: string, name?: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

function one(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objects, kind, name);
  assert.equal(found.length, 1, `expected one ${kind}${name ? `/${name}` : ''}, found ${found.length}`);
  return found[0] as K8sObject;
}

/** The container args' `--config FILE`, and the ConfigMap volume mounted over its directory. */
function configOf(objects: readonly K8sObject[], hub: K8sObject, container: Container) {
  const args = list(container.args).map(String);
  assert.equal(args[0], 'serve', 'the hub container runs `serve` (the image entrypoint is the CLI)');
  const at = args.indexOf('--config');
  assert.ok(at > 0, 'the hub gets its config file with --config');
  const configFile = args[at + 1] ?? '';
  const mount = list(container.volumeMounts)
    .filter(isObject)
    .find((m) => m.mountPath === dirname(configFile));
  assert.ok(mount, `a volume is mounted at ${dirname(configFile)}`);
  const podSpec = podSpecOf(hub) as JsonObject;
  const volume = list(podSpec.volumes)
    .filter(isObject)
    .find((v) => v.name === mount.name);
  assert.ok(volume && isObject(volume.configMap), `volume ${String(mount.name)} comes from a ConfigMap`);
  const configMap = one(objects, 'ConfigMap', String(volume.configMap.name));
  const text = obj(configMap.data, 'ConfigMap data')[basename(configFile)];
  assert.equal(typeof text, 'string', `ConfigMap ${configMap.metadata.name} holds ${basename(configFile)}`);
  return { configFile, configText: text as string };
}

function renderHub(dir: string): Rendered {
  const objects = render(join(ROOT, dir));
  const hubs = find(objects, 'Deployment').filter((d) => containersOf(d).some((c) => c.name === 'hub'));
  assert.equal(hubs.length, 1, 'one Deployment runs the hub');
  const hub = hubs[0] as K8sObject;
  const container = containersOf(hub).find((c) => c.name === 'hub') as Container;
  const { configFile, configText } = configOf(objects, hub, container);
  return { dir, objects, hub, container, configFile, configText, config: parseConfig(parseYaml(configText)) };
}

/** The values of a Secret in this rendering (stringData and base64 data), or undefined. */
function secretValues(objects: readonly K8sObject[], name: string): Record<string, string> | undefined {
  const secret = find(objects, 'Secret', name)[0];
  if (!secret) return undefined;
  const data = Object.entries((secret.data ?? {}) as Record<string, string>).map(
    ([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')] as const,
  );
  return { ...Object.fromEntries(data), ...((secret.stringData ?? {}) as Record<string, string>) };
}

/** The container's environment as the kubelet would set it, Secret values from the rendering or samples. */
function containerEnv(r: Rendered): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of list(r.container.env).filter(isObject)) {
    const name = String(entry.name);
    if (typeof entry.value === 'string') env[name] = entry.value;
    else if (isObject(entry.valueFrom) && isObject(entry.valueFrom.secretKeyRef)) {
      const ref = entry.valueFrom.secretKeyRef;
      const values = secretValues(r.objects, String(ref.name));
      const value = values ? values[String(ref.key)] : SAMPLE_SECRET_VALUES[String(ref.key)];
      if (value !== undefined) env[name] = value;
      else assert.equal(ref.optional, true, `env ${name}: Secret key ${String(ref.key)} is missing and not optional`);
    } else assert.fail(`env ${name}: only literal values and secretKeyRef are expected`);
  }
  assert.deepEqual(
    list(r.container.envFrom),
    [],
    'no envFrom: every variable is named, so nothing stray reaches SWITCHBOARD_*',
  );
  return env;
}

/** The variables Kubernetes' service links would add for these Services (`enableServiceLinks: true`). */
function serviceLinkEnv(objects: readonly K8sObject[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const service of find(objects, 'Service')) {
    const prefix = service.metadata.name.toUpperCase().replace(/-/g, '_');
    const port = list(obj(service.spec, 'spec').ports).filter(isObject)[0]?.port ?? 80;
    env[`${prefix}_SERVICE_HOST`] = '10.96.0.10';
    env[`${prefix}_SERVICE_PORT`] = String(port);
    env[`${prefix}_PORT`] = `tcp://10.96.0.10:${port}`;
  }
  return env;
}

function redisPort(config: Config): number | undefined {
  if (config.broker.type !== 'redis') return undefined;
  return Number(new URL(config.broker.url).port || 6379);
}

function kafkaPorts(config: Config): number[] {
  return (config.kafka?.brokers ?? []).map((broker) => Number(broker.split(':')[1]));
}

/** Every object of the rendering that runs pods. */
function workloads(objects: readonly K8sObject[]): K8sObject[] {
  return objects.filter((o) => podSpecOf(o) !== undefined);
}

for (const dir of kustomizations()) {
  describe(dir, () => {
    const r = renderHub(dir);
    const hubLabels = podLabels(r.hub);
    const otherWorkloads = workloads(r.objects).filter((w) => w !== r.hub);

    it('validates every object against the Kubernetes API schemas', async () => {
      for (const object of r.objects) {
        const module = MODEL_MODULES[`${object.apiVersion}/${object.kind}`];
        assert.ok(module, `a schema for ${object.apiVersion} ${object.kind}`);
        const exports = (await import(module)) as Record<string, new (data: unknown) => { validate(): void }>;
        const Model = exports[object.kind];
        assert.ok(Model, `${module} exports ${object.kind}`);
        assert.doesNotThrow(() => new Model(object).validate(), `${object.kind}/${object.metadata.name}`);
      }
    });

    it('uses no field the Kubernetes API does not define', () => {
      assert.deepEqual(strictFieldProblems(r.objects, ROOT), []);
    });

    it('names every object uniquely, and places namespaced ones in the overlay namespace', () => {
      const ids = r.objects.map((o) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      assert.equal(new Set(ids).size, ids.length);
      const namespaces = find(r.objects, 'Namespace');
      const used = new Set(r.objects.filter((o) => o.kind !== 'Namespace').map((o) => o.metadata.namespace));
      if (dir === 'k8s/base') assert.deepEqual([...used], [undefined], 'the base sets no namespace');
      else {
        assert.equal(used.size, 1, 'one namespace for everything');
        assert.deepEqual(
          namespaces.map((n) => n.metadata.name),
          [...used],
          'the overlay creates the namespace it uses',
        );
      }
    });

    it('runs no demo services, and no admin view in production', () => {
      assert.equal(r.config.demo.enabled, false, 'every hub of a cluster would publish its own');
      if (dir.endsWith('/production')) assert.equal(r.config.admin.enabled, false);
    });

    it("parses its hub config with the hub's own schema, environment included", () => {
      assert.equal(r.config.port, DEFAULT_PORT);
      const file = join(temp, `${dir.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, r.configText);
      const env = containerEnv(r);
      const config = loadConfig(file, env);
      assert.equal(config.port, r.config.port, 'no variable moves the port');
      for (const [name, value] of Object.entries(env)) {
        if (!name.startsWith('SWITCHBOARD_')) continue;
        assert.ok(value.length > 0 && Number.isNaN(Number(value)), `${name} is a non-numeric string`);
      }
    });

    it('turns service links off: they would inject SWITCHBOARD_* variables the hub reads as config', () => {
      assert.equal(obj(podSpecOf(r.hub), 'pod spec').enableServiceLinks, false);
      const file = join(temp, `${dir.replace(/\W+/g, '-')}-links.yaml`);
      writeFileSync(file, r.configText);
      assert.throws(() => loadConfig(file, { ...containerEnv(r), ...serviceLinkEnv(r.objects) }), /port|Unrecognized/);
    });

    it('mounts the files the config names from the Secret, and the keys load', () => {
      const podSpec = obj(podSpecOf(r.hub), 'pod spec');
      const files = [
        ...(r.config.auth?.keys ?? []).flatMap((k) => [k.secretFile, k.publicKeyFile]),
        r.config.tls?.certFile,
        r.config.tls?.keyFile,
        r.config.tls?.caFile,
      ].filter((f): f is string => f !== undefined);
      const read = new Map<string, string>();
      for (const file of files) {
        const mount = list(r.container.volumeMounts)
          .filter(isObject)
          .find((m) => m.mountPath === posix.dirname(file));
        assert.ok(mount, `${file} is in a mounted directory`);
        const volume = list(podSpec.volumes)
          .filter(isObject)
          .find((v) => v.name === mount.name);
        assert.ok(volume && isObject(volume.secret), `${file} comes from a Secret volume`);
        const values = secretValues(r.objects, String(volume.secret.secretName));
        if (values) {
          const value = values[posix.basename(file)];
          assert.ok(value !== undefined, `the Secret holds ${posix.basename(file)}`);
          read.set(file, value);
        }
      }
      // Where the overlay ships its Secret (dev), the hub must accept the keys in it.
      const keys = r.config.auth?.keys ?? [];
      if (keys.length > 0 && files.every((file) => read.has(file))) {
        assert.doesNotThrow(() => loadKeys(keys, (file) => read.get(file) ?? ''), 'the shipped keys are usable');
      }
    });

    it("probes the hub's health routes on its port", () => {
      const port = resolvePort(r.container, 'http');
      assert.equal(port, r.config.port);
      const probe = (name: string) => obj(obj(r.container[name], name).httpGet, `${name}.httpGet`);
      assert.equal(probe('readinessProbe').path, '/readyz');
      assert.equal(probe('livenessProbe').path, '/healthz');
      for (const name of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
        if (r.container[name] === undefined) continue;
        const httpGet = probe(name);
        assert.ok(ROUTES.get.includes(String(httpGet.path)), `${name} path ${String(httpGet.path)} is a hub route`);
        assert.equal(resolvePort(r.container, httpGet.port), r.config.port, `${name} port`);
      }
      assert.deepEqual(ROUTES.get.filter((route) => ['/healthz', '/readyz'].includes(route)).sort(), [
        '/healthz',
        '/readyz',
      ]);
    });

    it("annotates the pods for scraping at the hub's metrics route and port", () => {
      const template = obj(obj(r.hub.spec, 'spec').template, 'template');
      const annotations = (obj(template.metadata, 'metadata').annotations ?? {}) as Record<string, string>;
      if (annotations['prometheus.io/scrape'] === undefined) return;
      assert.ok(ROUTES.get.includes(annotations['prometheus.io/path'] ?? ''), 'prometheus.io/path is a hub route');
      // Metrics are served on the internal listener, never on the public port (docs/security.md).
      assert.equal(Number(annotations['prometheus.io/port']), r.config.http.internalPort);
      assert.equal(resolvePort(r.container, 'internal'), r.config.http.internalPort);
    });

    it('gives the drain its time: terminationGracePeriodSeconds ≥ preStop sleep + shutdownDelaySeconds + shutdownGraceSeconds + margin', () => {
      const podSpec = obj(podSpecOf(r.hub), 'pod spec');
      const grace = podSpec.terminationGracePeriodSeconds;
      assert.equal(typeof grace, 'number');
      const preStop = preStopSeconds(r.container);
      assert.ok(preStop > 0, 'a preStop sleep lets the endpoint removal reach the balancer first');
      const { shutdownDelaySeconds: delay, shutdownGraceSeconds: drain } = r.config;
      assert.ok(
        (grace as number) >= preStop + delay + drain + SHUTDOWN_MARGIN_SECONDS,
        `${String(grace)} >= ${preStop} + ${delay} + ${drain} + ${SHUTDOWN_MARGIN_SECONDS}`,
      );
      assert.ok(drain > 0, 'the hub drains (shutdownGraceSeconds > 0)');
    });

    it('stays up not ready after SIGTERM for as long as the readiness probe needs to notice: shutdownDelaySeconds ≥ period × failureThreshold', () => {
      const probe = obj(r.container.readinessProbe, 'readinessProbe');
      const noticed = Number(probe.periodSeconds ?? 10) * Number(probe.failureThreshold ?? 3);
      assert.ok(
        r.config.shutdownDelaySeconds >= noticed,
        `shutdownDelaySeconds ${r.config.shutdownDelaySeconds} >= ${noticed}`,
      );
    });

    it('rolls out without taking capacity away first, and lets the HPA own the replica count', () => {
      const spec = obj(r.hub.spec, 'spec');
      assert.equal(spec.replicas, undefined, 'no spec.replicas: it would reset the HPA on every apply');
      const rolling = obj(obj(spec.strategy, 'strategy').rollingUpdate, 'rollingUpdate');
      assert.equal(rolling.maxUnavailable, 0);
      assert.ok(selects(spec.selector, hubLabels), 'the Deployment selects its own pods');
    });

    it('runs every pod non-root with a restricted security context, and with resource limits', () => {
      for (const workload of workloads(r.objects)) {
        const podSpec = obj(podSpecOf(workload), 'pod spec');
        const where = `${workload.kind}/${workload.metadata.name}`;
        const pod = obj(podSpec.securityContext, `${where} securityContext`);
        assert.equal(pod.runAsNonRoot, true, `${where} runAsNonRoot`);
        assert.ok(typeof pod.runAsUser === 'number' && pod.runAsUser > 0, `${where} runAsUser is not root`);
        assert.equal(obj(pod.seccompProfile, `${where} seccompProfile`).type, 'RuntimeDefault');
        assert.equal(podSpec.automountServiceAccountToken, false, `${where} mounts no API token`);
        assert.equal(podSpec.enableServiceLinks, false, `${where} has no service-link variables`);
        assert.equal(podSpec.hostNetwork, undefined);
        for (const container of containersOf(workload)) {
          const sc = obj(container.securityContext, `${where} ${container.name} securityContext`);
          assert.equal(sc.allowPrivilegeEscalation, false, `${where} ${container.name}`);
          assert.ok(list(obj(sc.capabilities, 'capabilities').drop).includes('ALL'), `${where} drops ALL`);
          assert.notEqual(sc.privileged, true);
          const resources = obj(container.resources, `${where} resources`);
          assert.ok(obj(resources.requests, 'requests').memory && obj(resources.requests, 'requests').cpu);
          assert.ok(obj(resources.limits, 'limits').memory, `${where} has a memory limit`);
        }
      }
      assert.equal(obj(r.container.securityContext, 'hub securityContext').readOnlyRootFilesystem, true);
    });

    it('spreads hub pods over nodes and zones', () => {
      const constraints = list(obj(podSpecOf(r.hub), 'pod spec').topologySpreadConstraints).filter(isObject);
      const keys = constraints.map((c) => c.topologyKey);
      assert.ok(keys.includes('kubernetes.io/hostname') && keys.includes('topology.kubernetes.io/zone'));
      for (const c of constraints) assert.ok(selects(c.labelSelector, hubLabels), `${String(c.topologyKey)} selector`);
    });

    it('exposes the hub through an L4 LoadBalancer Service that keeps client addresses', () => {
      const services = find(r.objects, 'Service').filter((s) => selects(obj(s.spec, 'spec').selector, hubLabels));
      assert.equal(services.length, 1, 'one Service selects the hub pods');
      const spec = obj((services[0] as K8sObject).spec, 'spec');
      assert.equal(spec.type, 'LoadBalancer');
      assert.equal(spec.externalTrafficPolicy, 'Local');
      assert.ok(spec.sessionAffinity === undefined || spec.sessionAffinity === 'None', 'no sticky sessions');
      for (const port of list(spec.ports).filter(isObject)) {
        assert.equal(resolvePort(r.container, port.targetPort ?? port.port), r.config.port);
        assert.equal(port.protocol ?? 'TCP', 'TCP');
      }
      for (const other of otherWorkloads) {
        assert.ok(!selects(spec.selector, podLabels(other)), `the Service does not select ${other.metadata.name}`);
      }
      const healthPath = obj(services[0]?.metadata, 'metadata').annotations as Record<string, string> | undefined;
      const path = healthPath?.['service.beta.kubernetes.io/aws-load-balancer-healthcheck-path'];
      if (path !== undefined) assert.equal(path, '/readyz');
    });

    it('autoscales the hub Deployment on CPU and connections per pod', () => {
      const hpa = one(r.objects, 'HorizontalPodAutoscaler');
      const spec = obj(hpa.spec, 'spec');
      const target = obj(spec.scaleTargetRef, 'scaleTargetRef');
      assert.deepEqual(
        { apiVersion: target.apiVersion, kind: target.kind, name: target.name },
        { apiVersion: r.hub.apiVersion, kind: 'Deployment', name: r.hub.metadata.name },
      );
      assert.ok((spec.minReplicas as number) >= 1 && (spec.minReplicas as number) <= (spec.maxReplicas as number));
      const metrics = list(spec.metrics).filter(isObject);
      assert.ok(
        metrics.some((m) => m.type === 'Resource' && obj(m.resource, 'resource').name === 'cpu'),
        'scales on CPU',
      );
      const pods = metrics.filter((m) => m.type === 'Pods').map((m) => obj(obj(m.pods, 'pods').metric, 'metric').name);
      assert.ok(
        pods.every((name) => name === CONNECTIONS_METRIC),
        `pods metrics are ${CONNECTIONS_METRIC}`,
      );
      if (dir !== 'k8s/overlays/dev') assert.deepEqual(pods, [CONNECTIONS_METRIC], 'scales on connections per pod');
      const metricsSource = readFileSync(join(ROOT, 'src', 'metrics.ts'), 'utf8');
      assert.ok(metricsSource.includes(`name: '${CONNECTIONS_METRIC}'`), `the hub exports ${CONNECTIONS_METRIC}`);
    });

    it('guards the hub pods with a PodDisruptionBudget that leaves most of them serving', () => {
      const pdb = one(r.objects, 'PodDisruptionBudget');
      const spec = obj(pdb.spec, 'spec');
      assert.ok(selects(spec.selector, hubLabels), 'the PDB selects the hub pods');
      for (const other of otherWorkloads) assert.ok(!selects(spec.selector, podLabels(other)));
      const minReplicas = obj(one(r.objects, 'HorizontalPodAutoscaler').spec, 'spec').minReplicas as number;
      assert.ok(
        (typeof spec.maxUnavailable === 'number' && spec.maxUnavailable < minReplicas) ||
          (typeof spec.minAvailable === 'number' && spec.minAvailable < minReplicas),
        'the budget allows evictions yet keeps pods serving',
      );
    });

    it('lets in only the hub port, and out only DNS, Redis and Kafka', () => {
      const policy = one(r.objects, 'NetworkPolicy');
      const spec = obj(policy.spec, 'spec');
      assert.ok(selects(spec.podSelector, hubLabels));
      assert.deepEqual([...list(spec.policyTypes)].sort(), ['Egress', 'Ingress']);
      const portsOf = (rule: JsonObject) =>
        list(rule.ports)
          .filter(isObject)
          .map((p) => `${resolvePort(r.container, p.port)}/${String(p.protocol ?? 'TCP')}`);
      const ingress = list(spec.ingress).filter(isObject);
      assert.ok(ingress.length > 0);
      const [publicRule, internalRule, ...others] = ingress;
      assert.deepEqual(others, [], 'ingress on the hub port and the internal port only');
      assert.deepEqual(portsOf(publicRule ?? {}), [`${r.config.port}/TCP`], 'the hub port');
      assert.equal(publicRule?.from, undefined, 'from anywhere: the balancer keeps client addresses');
      assert.deepEqual(portsOf(internalRule ?? {}), [`${r.config.http.internalPort}/TCP`], 'the internal port');
      assert.deepEqual(internalRule?.from, [{ namespaceSelector: {} }], 'the internal port from the cluster only');
      const redis = redisPort(r.config);
      const kafka = kafkaPorts(r.config);
      const allowed = new Set([
        '53/UDP',
        '53/TCP',
        ...(redis ? [`${redis}/TCP`] : []),
        ...kafka.map((p) => `${p}/TCP`),
      ]);
      const egress = list(spec.egress).filter(isObject);
      const open = new Set(egress.flatMap(portsOf));
      for (const rule of egress) {
        const ports = portsOf(rule);
        assert.ok(ports.length > 0, 'every egress rule names its ports');
        for (const port of ports) assert.ok(allowed.has(port), `egress to ${port} is DNS, Redis or Kafka`);
      }
      for (const needed of allowed) assert.ok(open.has(needed), `egress allows ${needed}`);
      // Rules that name pods of this rendering must reach pods that listen on the rule's port.
      for (const rule of egress) {
        for (const peer of list(rule.to).filter(isObject)) {
          if (!isObject(peer.podSelector) || peer.namespaceSelector !== undefined) continue;
          const pods = workloads(r.objects).filter((w) => selects(peer.podSelector, podLabels(w)));
          assert.ok(pods.length > 0, `egress podSelector ${JSON.stringify(peer.podSelector)} selects a workload`);
          const listening = pods.flatMap((w) =>
            containersOf(w).flatMap((c) =>
              list(c.ports)
                .filter(isObject)
                .map((p) => `${String(p.containerPort)}/${String(p.protocol ?? 'TCP')}`),
            ),
          );
          for (const port of portsOf(rule)) assert.ok(listening.includes(port), `a selected pod listens on ${port}`);
        }
      }
    });

    it('references only ConfigMaps and Secrets that exist, or the external switchboard-secrets', () => {
      for (const workload of workloads(r.objects)) {
        const podSpec = obj(podSpecOf(workload), 'pod spec');
        const configMaps: string[] = [];
        const secrets: string[] = [];
        for (const volume of list(podSpec.volumes).filter(isObject)) {
          if (isObject(volume.configMap)) configMaps.push(String(volume.configMap.name));
          if (isObject(volume.secret)) secrets.push(String(volume.secret.secretName));
        }
        for (const container of containersOf(workload)) {
          for (const env of list(container.env).filter(isObject)) {
            const from = isObject(env.valueFrom) ? env.valueFrom : {};
            if (isObject(from.configMapKeyRef)) configMaps.push(String(from.configMapKeyRef.name));
            if (isObject(from.secretKeyRef)) secrets.push(String(from.secretKeyRef.name));
          }
        }
        for (const name of configMaps) assert.equal(find(r.objects, 'ConfigMap', name).length, 1, `ConfigMap ${name}`);
        for (const name of secrets) {
          const present = find(r.objects, 'Secret', name).length === 1;
          assert.ok(
            present || name === 'switchboard-secrets',
            `Secret ${name} exists or is the documented external one`,
          );
        }
        const sa = podSpec.serviceAccountName;
        if (sa !== undefined)
          assert.equal(find(r.objects, 'ServiceAccount', String(sa)).length, 1, `ServiceAccount ${String(sa)}`);
      }
    });

    if (otherWorkloads.length > 0) {
      it('points the hub at the Redis and Kafka it brings, on the ports they listen on', () => {
        const serviceFor = (host: string, port: number) => {
          const service = one(r.objects, 'Service', host);
          const ports = list(obj(service.spec, 'spec').ports).filter(isObject);
          const servicePort = ports.find((p) => p.port === port);
          assert.ok(servicePort, `Service ${host} has port ${port}`);
          const pods = workloads(r.objects).filter((w) => selects(obj(service.spec, 'spec').selector, podLabels(w)));
          assert.equal(pods.length, 1, `Service ${host} selects one workload`);
          const container = containersOf(pods[0] as K8sObject)[0] as Container;
          resolvePort(container, servicePort.targetPort ?? port);
          return pods[0] as K8sObject;
        };
        if (r.config.broker.type === 'redis') {
          const url = new URL(r.config.broker.url);
          serviceFor(url.hostname, Number(url.port || 6379));
        }
        for (const broker of r.config.kafka?.brokers ?? []) {
          const [host = '', port = ''] = broker.split(':');
          const kafka = serviceFor(host, Number(port));
          const env = list((containersOf(kafka)[0] as Container).env).filter(isObject);
          const advertised = env.find((e) => e.name === 'KAFKA_ADVERTISED_LISTENERS')?.value;
          assert.ok(String(advertised).includes(`//${broker}`), `Kafka advertises ${broker} (${String(advertised)})`);
        }
      });
    }
  });
}

describe('k8s/ and the hub', () => {
  it(`writes client URLs with the hub's WebSocket path (${ROUTES.wsPath})`, () => {
    const files = [
      join(ROOT, 'docs', 'operations.md'),
      ...kustomizations().flatMap((dir) => yamlFilesOf(join(ROOT, dir))),
    ];
    let seen = 0;
    for (const file of files) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\bwss?:\/\/[^\s)`'"]+/g)) {
        const url = match[0].replace(/[.,;:]+$/, '');
        const path = url.replace(/^wss?:\/\/[^/]*/, '');
        assert.equal(path, ROUTES.wsPath, `${file}: ${url}`);
        seen += 1;
      }
    }
    assert.ok(seen > 0, 'the docs show clients where to connect');
  });
});

describe('real kustomize renders what the test renderer renders', () => {
  for (const dir of kustomizations()) {
    it(dir, () => {
      const tool = kustomizeCommand();
      assert.ok(tool, `neither kustomize nor kubectl is installed: run ${INSTALL_COMMAND}`);
      const [command, ...args] = tool;
      const result = spawnSync(command as string, [...args, join(ROOT, dir)], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      const theirs = parseAllDocuments(result.stdout).map((d) => d.toJS() as K8sObject);
      const key = (o: K8sObject) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      const sorted = (objects: K8sObject[]) => [...objects].sort((a, b) => key(a).localeCompare(key(b)));
      assert.deepEqual(sorted(render(join(ROOT, dir))), sorted(theirs));
    });
  }
});

function yamlFilesOf(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? yamlFilesOf(join(dir, entry.name))
      : entry.name.endsWith('.yaml')
        ? [join(dir, entry.name)]
        : [],
  );
}
