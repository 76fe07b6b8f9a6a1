import { z } from 'zod';
import { configSchema } from './schema.js';

/** The JSON Schema of the config file (input side: what users write), for editor autocompletion. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://github.com/hookrelay/hookrelay/config/hookrelay.schema.json',
    title: 'hookrelay config',
    description: 'Config file of hookrelay. Strings may contain ${VAR} or ${VAR:-default}, replaced from the environment.',
  };
}
