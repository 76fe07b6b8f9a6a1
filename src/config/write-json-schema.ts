import { writeFileSync } from 'node:fs';
import { configJsonSchema } from './json-schema.js';

// `npm run schema`: regenerates config/hookrelay.schema.json from the zod schema.
const target = process.argv[2] ?? 'config/hookrelay.schema.json';
writeFileSync(target, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${target}\n`);
