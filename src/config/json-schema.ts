import { z } from 'zod';
import { configSchema } from './schema.js';

/** A string holding a `${VAR}` reference, accepted wherever a number is (it is substituted before validation). */
const ENV_REFERENCE = { type: 'string', pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}' };

/** The JSON Schema of the config file (input side: what users write), for editor autocompletion. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...(allowEnvReferences(schema) as Record<string, unknown>),
    $id: 'https://github.com/hookrelay/hookrelay/config/hookrelay.schema.json',
    title: 'hookrelay config',
    description: 'Config file of hookrelay. Strings may contain ${VAR} or ${VAR:-default}, replaced from the environment.',
  };
}

/** Lets every numeric key also hold a `${VAR}` string, as the loader substitutes before validating. */
function allowEnvReferences(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(allowEnvReferences);
  if (!node || typeof node !== 'object') return node;
  const entries = Object.entries(node as Record<string, unknown>).map(([key, value]) => [key, allowEnvReferences(value)] as const);
  const copy = Object.fromEntries(entries) as Record<string, unknown>;
  if (copy.type === 'integer' || copy.type === 'number') {
    const { description, default: fallback, ...numeric } = copy;
    return {
      ...(description === undefined ? {} : { description }),
      ...(fallback === undefined ? {} : { default: fallback }),
      anyOf: [numeric, ENV_REFERENCE],
    };
  }
  return copy;
}
