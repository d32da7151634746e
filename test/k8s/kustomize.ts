/**
 * A small renderer for the kustomize features k8s/ uses, so the manifest tests run on any machine
 * without a kustomize binary. It implements exactly these Kustomization fields, in kustomize's
 * order, and throws on any other field, so a kustomization that starts using something new fails
 * the tests loudly instead of rendering wrong:
 *   resources        YAML files (many documents each) and directories holding a kustomization
 *   configMapGenerator  `files` (and `literals`) with behavior create | replace | merge
 *   patches          `path` to a strategic-merge patch, matched by apiVersion group, kind and name
 *   namespace        set on every namespaced object
 *   images           newName / newTag / digest for containers whose image name matches
 * Generated ConfigMaps get kustomize's content-hash suffix, and references to them from pod specs
 * are renamed to match. When a real kustomize is available (`kubectl kustomize`), the tests also
 * render with it and require the same objects (manifests.test.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface K8sObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject & { name: string; namespace?: string };
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const SUPPORTED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'configMapGenerator',
  'patches',
  'namespace',
  'images',
]);

/** Kinds the renderer knows, and whether they live in a namespace. Any other kind is an error. */
const NAMESPACED: Record<string, boolean> = {
  Namespace: false,
  ServiceAccount: true,
  ConfigMap: true,
  Secret: true,
  Service: true,
  Deployment: true,
  StatefulSet: true,
  HorizontalPodAutoscaler: true,
  PodDisruptionBudget: true,
  NetworkPolicy: true,
};

/** Kinds whose `spec.template.spec` is a pod spec. */
const POD_TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet']);

interface Entry {
  object: K8sObject;
  /** A generated ConfigMap whose final name gets the content-hash suffix. */
  hashed: boolean;
}

/** Renders the kustomization in `dir` as `kubectl kustomize dir` would (for the features above). */
export function render(dir: string): K8sObject[] {
  const entries = build(resolve(dir));
  const renamed = new Map<string, string>();
  for (const entry of entries) {
    if (!entry.hashed) continue;
    const { name, namespace } = entry.object.metadata;
    const hashedName = `${name}-${configMapHash(entry.object)}`;
    renamed.set(`${namespace ?? ''}/${name}`, hashedName);
    entry.object.metadata.name = hashedName;
  }
  for (const { object } of entries) {
    const podSpec = podSpecOf(object);
    if (podSpec) renameConfigMapReferences(podSpec, object.metadata.namespace ?? '', renamed);
  }
  return entries.map((entry) => entry.object);
}

/** All YAML documents of a file, empty ones skipped. */
export function readYamlDocuments(file: string): Json[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]?.message}`);
      return document.toJS() as Json;
    })
    .filter((value) => value !== null && value !== undefined);
}

function build(dir: string): Entry[] {
  const file = KUSTOMIZATION_FILES.map((name) => join(dir, name)).find((path) => existsSync(path));
  if (!file) throw new Error(`${dir}: no kustomization file`);
  const [kustomization] = readYamlDocuments(file);
  if (!isObject(kustomization)) throw new Error(`${file}: not a mapping`);
  for (const field of Object.keys(kustomization)) {
    if (!SUPPORTED_FIELDS.has(field)) throw new Error(`${file}: the test renderer does not implement '${field}'`);
  }

  // 1. Resources, bases rendered first (with their own transformations).
  const entries: Entry[] = [];
  for (const resource of stringList(kustomization.resources, `${file}: resources`)) {
    const path = join(dir, resource);
    if (statSync(path).isDirectory()) entries.push(...build(path));
    else {
      for (const document of readYamlDocuments(path))
        entries.push({ object: asK8sObject(document, path), hashed: false });
    }
  }
  for (const { object } of entries) {
    if (!(object.kind in NAMESPACED)) throw new Error(`the test renderer does not know kind ${object.kind}`);
  }

  // 2. Generators.
  for (const generator of objectList(kustomization.configMapGenerator, `${file}: configMapGenerator`)) {
    generateConfigMap(dir, generator, entries);
  }

  // 3. Transformers, in kustomize's order: patches, namespace, images.
  for (const patch of objectList(kustomization.patches, `${file}: patches`)) {
    for (const key of Object.keys(patch)) {
      if (key !== 'path') throw new Error(`${file}: patches: the test renderer supports only 'path', not '${key}'`);
    }
    const path = join(dir, String(patch.path));
    for (const document of readYamlDocuments(path)) applyPatch(asK8sObject(document, path), entries, path);
  }
  if (kustomization.namespace !== undefined) {
    const namespace = String(kustomization.namespace);
    for (const { object } of entries) {
      if (NAMESPACED[object.kind]) object.metadata.namespace = namespace;
    }
  }
  for (const image of objectList(kustomization.images, `${file}: images`)) {
    for (const { object } of entries) setImage(object, image);
  }
  return entries;
}

function generateConfigMap(dir: string, generator: JsonObject, entries: Entry[]): void {
  for (const key of Object.keys(generator)) {
    if (!['name', 'files', 'literals', 'behavior'].includes(key))
      throw new Error(`configMapGenerator: the test renderer does not implement '${key}'`);
  }
  const name = String(generator.name);
  const data: Record<string, string> = {};
  for (const spec of stringList(generator.files, `configMapGenerator ${name}: files`)) {
    const [key, path] = spec.includes('=') ? (spec.split('=', 2) as [string, string]) : [basename(spec), spec];
    data[key] = readFileSync(join(dir, path), 'utf8');
  }
  for (const literal of stringList(generator.literals, `configMapGenerator ${name}: literals`)) {
    const at = literal.indexOf('=');
    data[literal.slice(0, at)] = literal.slice(at + 1);
  }
  const behavior = generator.behavior === undefined ? 'create' : String(generator.behavior);
  const existing = entries.find(({ object }) => object.kind === 'ConfigMap' && object.metadata.name === name);
  if (behavior === 'create') {
    if (existing) throw new Error(`configMapGenerator ${name}: already exists (use behavior replace or merge)`);
    entries.push({ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data }, hashed: true });
    return;
  }
  if (!existing) throw new Error(`configMapGenerator ${name}: behavior ${behavior} needs it in a base`);
  if (behavior === 'replace') existing.object.data = data;
  else if (behavior === 'merge') existing.object.data = { ...asObject(existing.object.data ?? {}), ...data };
  else throw new Error(`configMapGenerator ${name}: unknown behavior ${behavior}`);
}

/**
 * kustomize's content hash of a ConfigMap (api/hasher): sha256 of the JSON of kind, name and data,
 * first 10 hex digits with 0 1 3 a e spelled g h k m t. The name it hashes is always empty: it
 * looks `metadata/name` up as one field name, which no ConfigMap has (checked against kustomize
 * v5.5.0: the suffix does not change with the name).
 */
export function configMapHash(configMap: K8sObject): string {
  const encoded = goJson({ data: configMap.data ?? null, kind: 'ConfigMap', name: '' });
  const hex = createHash('sha256').update(encoded).digest('hex').slice(0, 10);
  const spelled: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return hex.replace(/[013ae]/g, (digit) => spelled[digit] ?? digit);
}

/** JSON as Go's encoding/json writes it: map keys sorted, and <, >, &, U+2028, U+2029 escaped. */
function goJson(value: Json): string {
  const sorted = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(sorted);
    if (isObject(v))
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((key) => [key, sorted(v[key] as Json)]),
      );
    return v;
  };
  return JSON.stringify(sorted(value)).replace(
    /[<>&\u2028\u2029]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function applyPatch(patch: K8sObject, entries: Entry[], path: string): void {
  const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');
  const targets = entries.filter(
    ({ object }) =>
      object.kind === patch.kind &&
      object.metadata.name === patch.metadata.name &&
      group(object.apiVersion) === group(patch.apiVersion),
  );
  if (targets.length !== 1) {
    throw new Error(`${path}: ${patch.kind}/${patch.metadata.name} matches ${targets.length} objects, not one`);
  }
  const target = targets[0] as Entry;
  target.object = strategicMerge(target.object, patch, '') as K8sObject;
}

/**
 * Merge keys of the lists the patches touch (from the Kubernetes API's patchMergeKey). A list whose
 * field is not here is replaced whole by the patch, as strategic merge does for atomic lists.
 */
function mergeKeyOf(field: string, items: readonly Json[]): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'ports':
      // Container ports merge on containerPort, Service ports on port; NetworkPolicy ports are atomic.
      if (items.every((item) => isObject(item) && 'containerPort' in item)) return 'containerPort';
      if (items.every((item) => isObject(item) && 'targetPort' in item)) return 'port';
      return undefined;
    default:
      return undefined;
  }
}

/** Strategic merge of `patch` into `base`: maps merge, `null` deletes, keyed lists merge by key. */
export function strategicMerge(base: Json | undefined, patch: Json, field: string): Json {
  if (isObject(patch)) {
    for (const key of Object.keys(patch)) {
      if (key.startsWith('$')) throw new Error(`the test renderer does not implement the directive ${key}`);
    }
    if (!isObject(base)) return stripNulls(patch);
    const merged: JsonObject = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete merged[key];
      else merged[key] = strategicMerge(base[key], value, key);
    }
    return merged;
  }
  if (Array.isArray(patch) && Array.isArray(base)) {
    const key = mergeKeyOf(field, [...base, ...patch]);
    if (!key) return patch.map((item) => stripNulls(item));
    const merged = [...base];
    for (const item of patch) {
      const itemKey = isObject(item) ? item[key] : undefined;
      const at = merged.findIndex((existing) => isObject(existing) && existing[key] === itemKey);
      if (at >= 0) merged[at] = strategicMerge(merged[at], item, '');
      else merged.push(stripNulls(item));
    }
    return merged;
  }
  return stripNulls(patch);
}

function stripNulls(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripNulls);
  if (isObject(value))
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, stripNulls(v)]),
    );
  return value;
}

function setImage(object: K8sObject, image: JsonObject): void {
  const podSpec = podSpecOf(object);
  if (!podSpec) return;
  for (const list of ['containers', 'initContainers']) {
    for (const container of Array.isArray(podSpec[list]) ? podSpec[list] : []) {
      if (!isObject(container) || typeof container.image !== 'string') continue;
      const { name, tag, digest } = parseImage(container.image);
      if (name !== image.name) continue;
      const newName = typeof image.newName === 'string' ? image.newName : name;
      if (typeof image.digest === 'string') container.image = `${newName}@${image.digest}`;
      else if (typeof image.newTag === 'string') container.image = `${newName}:${image.newTag}`;
      else container.image = `${newName}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
    }
  }
}

/** Splits `registry:5000/repo/name:tag@sha256:…` into name, tag and digest. */
export function parseImage(image: string): { name: string; tag?: string; digest?: string } {
  const [withTag = '', digest] = image.split('@', 2);
  const slash = withTag.lastIndexOf('/');
  const colon = withTag.lastIndexOf(':');
  const result: { name: string; tag?: string; digest?: string } =
    colon > slash ? { name: withTag.slice(0, colon), tag: withTag.slice(colon + 1) } : { name: withTag };
  if (digest) result.digest = digest;
  return result;
}

/** The pod spec of a workload (`spec.template.spec`), if it has one. */
export function podSpecOf(object: K8sObject): JsonObject | undefined {
  if (!POD_TEMPLATE_KINDS.has(object.kind)) return undefined;
  const spec = object.spec;
  const template = isObject(spec) ? spec.template : undefined;
  const podSpec = isObject(template) ? template.spec : undefined;
  return isObject(podSpec) ? podSpec : undefined;
}

function renameConfigMapReferences(podSpec: JsonObject, namespace: string, renamed: Map<string, string>): void {
  const rename = (holder: Json | undefined, field: string) => {
    if (!isObject(holder) || typeof holder[field] !== 'string') return;
    const hashed = renamed.get(`${namespace}/${holder[field]}`);
    if (hashed) holder[field] = hashed;
  };
  for (const volume of Array.isArray(podSpec.volumes) ? podSpec.volumes : []) {
    if (isObject(volume)) rename(volume.configMap, 'name');
  }
  for (const list of ['containers', 'initContainers']) {
    for (const container of Array.isArray(podSpec[list]) ? podSpec[list] : []) {
      if (!isObject(container)) continue;
      for (const env of Array.isArray(container.env) ? container.env : []) {
        if (isObject(env) && isObject(env.valueFrom)) rename(env.valueFrom.configMapKeyRef, 'name');
      }
      for (const from of Array.isArray(container.envFrom) ? container.envFrom : []) {
        if (isObject(from)) rename(from.configMapRef, 'name');
      }
    }
  }
}

function asK8sObject(value: Json, source: string): K8sObject {
  if (
    !isObject(value) ||
    typeof value.apiVersion !== 'string' ||
    typeof value.kind !== 'string' ||
    !isObject(value.metadata) ||
    typeof value.metadata.name !== 'string'
  ) {
    throw new Error(`${source}: a document without apiVersion, kind and metadata.name`);
  }
  return value as K8sObject;
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asObject(value: Json): JsonObject {
  if (!isObject(value)) throw new Error('expected a mapping');
  return value;
}

function stringList(value: Json | undefined, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
    throw new Error(`${what}: a list of strings`);
  return value as string[];
}

function objectList(value: Json | undefined, what: string): JsonObject[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isObject)) throw new Error(`${what}: a list of mappings`);
  return value as JsonObject[];
}
