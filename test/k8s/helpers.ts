/** Small lookups over rendered manifests, shared by the k8s and container tests. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isObject, type Json, type JsonObject, type K8sObject, podSpecOf } from './kustomize.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const K8S = join(ROOT, 'k8s');

/** `k8s/base` and every overlay under `k8s/overlays`, as paths relative to the repository. */
export function kustomizations(): string[] {
  const overlays = readdirSync(join(K8S, 'overlays'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `k8s/overlays/${entry.name}`)
    .sort();
  return ['k8s/base', ...overlays];
}

export interface Container extends JsonObject {
  name: string;
}

export function obj(value: Json | undefined, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what}: missing or not a mapping`);
  return value;
}

export function list(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

export function containersOf(object: K8sObject): Container[] {
  const podSpec = podSpecOf(object);
  if (!podSpec) return [];
  return [...list(podSpec.initContainers), ...list(podSpec.containers)].filter(
    (c): c is Container => isObject(c) && typeof c.name === 'string',
  );
}

export function podLabels(object: K8sObject): Record<string, string> {
  const template = obj(obj(object.spec, 'spec').template, 'spec.template');
  return (obj(template.metadata, 'spec.template.metadata').labels ?? {}) as Record<string, string>;
}

/** Whether a label selector (`matchLabels` only, `matchExpressions` refused) selects these labels. */
export function selects(selector: Json | undefined, labels: Record<string, string>): boolean {
  if (!isObject(selector)) return false;
  if (selector.matchExpressions !== undefined) throw new Error('matchExpressions is not supported by these tests');
  const matchLabels = (selector.matchLabels ?? selector) as Record<string, string>;
  const entries = Object.entries(matchLabels);
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

/** A container port given by number or by name, as a number. */
export function resolvePort(container: Container, port: Json | undefined): number {
  if (typeof port === 'number') return port;
  const found = list(container.ports).find((p) => isObject(p) && p.name === port);
  if (!isObject(found) || typeof found.containerPort !== 'number')
    throw new Error(`container ${container.name} has no port named ${String(port)}`);
  return found.containerPort;
}

/** Seconds a preStop hook waits: `sleep: {seconds}` or an exec of `sleep N`. */
export function preStopSeconds(container: Container): number {
  const preStop = isObject(container.lifecycle) ? container.lifecycle.preStop : undefined;
  if (!isObject(preStop)) return 0;
  if (isObject(preStop.sleep) && typeof preStop.sleep.seconds === 'number') return preStop.sleep.seconds;
  const command = isObject(preStop.exec) ? list(preStop.exec.command).map(String) : [];
  const words = command[0] === 'sh' || command[0] === '/bin/sh' ? (command[2] ?? '').split(/\s+/) : command;
  if (words.length === 2 && /(^|\/)sleep$/.test(words[0] ?? '') && /^\d+$/.test(words[1] ?? ''))
    return Number(words[1]);
  throw new Error(`container ${container.name}: cannot tell how long its preStop hook waits`);
}

/** The hub's GET routes and WebSocket path, read from its transport source. */
export function hubRoutes(): { get: string[]; wsPath: string } {
  const source = readFileSync(join(ROOT, 'src', 'transport', 'server.ts'), 'utf8');
  // Routes served on both the public and the internal listener appear twice in the source.
  const get = [...new Set([...source.matchAll(/\.get\('([^']+)'/g)].map((match) => match[1] as string))];
  const wsPath = /WS_PATH = '([^']+)'/.exec(source)?.[1];
  if (!wsPath) throw new Error('WS_PATH not found in src/transport/server.ts');
  return { get, wsPath };
}
