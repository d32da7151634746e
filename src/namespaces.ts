import { namespaceOf } from '@switchboard/protocol';
import type { HistoryOptions } from './brokers/broker.js';
import type { Config, NamespaceSettings } from './config.js';
import { unknownChannel } from './errors.js';

export interface ResolvedNamespace {
  readonly name: string;
  readonly settings: NamespaceSettings;
  readonly history: HistoryOptions;
}

/** Maps a channel to the settings of its namespace, computed once per namespace. */
export class Namespaces {
  private readonly byName = new Map<string, ResolvedNamespace>();
  private readonly fallback: ResolvedNamespace | undefined;

  constructor(config: Pick<Config, 'namespaces' | 'defaultNamespace' | 'strictNamespaces'>) {
    for (const [name, settings] of Object.entries(config.namespaces)) this.byName.set(name, resolve(name, settings));
    this.fallback = config.strictNamespaces ? undefined : resolve('', config.defaultNamespace);
  }

  /** A namespace by name (`` is the default namespace). */
  named(name: string): ResolvedNamespace {
    const found = this.byName.get(name) ?? (name === '' ? this.fallback : undefined);
    if (!found) throw new Error(`no namespace ${JSON.stringify(name)}`);
    return found;
  }

  /** The channel's namespace; throws error 102 when it matches none and namespaces are strict. */
  of(channel: string): ResolvedNamespace {
    const found = this.byName.get(namespaceOf(channel)) ?? this.fallback;
    if (!found) throw unknownChannel(channel);
    return found;
  }
}

function resolve(name: string, settings: NamespaceSettings): ResolvedNamespace {
  const history = { size: settings.history.size, ttlMs: settings.history.ttlSeconds * 1000 };
  return { name, settings, history: settings.kafkaIngress?.replay ? { ...history, anchors: true } : history };
}
