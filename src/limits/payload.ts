import { ErrorCode } from '@switchboard/protocol';
import type { Ajv as AjvClass, ValidateFunction } from 'ajv';
import { HubError } from '../errors.js';
import { optional } from '../optional.js';

/** What a namespace demands of client publishes (the `payload` settings). */
export interface PayloadRules {
  readonly maxBytes?: number | undefined;
  readonly schema?: Record<string, unknown> | undefined;
}

/**
 * Strict: unknown keywords and formats are configuration errors, not silently ignored rules.
 * Schemas cannot load anything remote (no `loadSchema`), and `$data` is off. ajv is loaded only
 * when some namespace has a schema (a few MB a hub without one does not pay), synchronously,
 * since configuration is checked before the hub starts.
 */
function newAjv(): AjvClass {
  const { Ajv } = optional<typeof import('ajv')>('ajv');
  return new Ajv({ strict: true, allErrors: false, allowUnionTypes: true });
}

/** Why a schema cannot be used (for config validation), or undefined when it compiles. */
export function schemaProblem(schema: Record<string, unknown>): string | undefined {
  try {
    newAjv().compile(schema);
    return undefined;
  } catch (error) {
    return `not a usable JSON Schema: ${(error as Error).message}`;
  }
}

interface CompiledRules {
  readonly maxBytes: number | undefined;
  readonly validate: ValidateFunction | undefined;
}

/**
 * Checks client publishes against their namespace's `payload` rules, with each schema compiled
 * once at startup. A refusal is error 114 naming the data path and the schema path that failed;
 * nothing of a refused publish reaches the broker or the egress.
 */
export class PayloadValidator {
  private readonly byNamespace = new Map<string, CompiledRules>();
  /** Publishes refused, for metrics. */
  refused = 0;

  constructor(namespaces: ReadonlyMap<string, PayloadRules | undefined>) {
    let ajv: AjvClass | undefined;
    for (const [name, rules] of namespaces) {
      if (!rules || (rules.maxBytes === undefined && rules.schema === undefined)) continue;
      let validate: ValidateFunction | undefined;
      if (rules.schema !== undefined) {
        ajv ??= newAjv();
        validate = ajv.compile(rules.schema);
      }
      this.byNamespace.set(name, { maxBytes: rules.maxBytes, validate });
    }
  }

  /** Throws error 114 when `data` breaks the rules of `namespace`. */
  check(namespace: string, data: unknown): void {
    const rules = this.byNamespace.get(namespace);
    if (!rules) return;
    if (rules.maxBytes !== undefined) {
      const size = Buffer.byteLength(JSON.stringify(data) ?? '');
      if (size > rules.maxBytes) this.refuse(`d: ${size} bytes, over the limit of ${rules.maxBytes}`);
    }
    if (rules.validate && !rules.validate(data)) {
      const error = rules.validate.errors?.[0];
      const where = `d${error?.instancePath ?? ''}`;
      this.refuse(`${where}: ${error?.message ?? 'invalid'} (schema ${error?.schemaPath ?? '#'})`);
    }
  }

  private refuse(message: string): never {
    this.refused += 1;
    throw new HubError(ErrorCode.INVALID_PAYLOAD, message);
  }
}
