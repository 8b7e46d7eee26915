// docs/netnote.schema.json compiled once with Ajv (draft 2020-12, strict): what every line of
// --json output must validate against.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';

export interface Schema {
  properties: { event: { enum: string[] } };
  $defs: Record<string, unknown>;
}

export const schema = JSON.parse(readFileSync(new URL('../../docs/netnote.schema.json', import.meta.url), 'utf8')) as Schema;
export const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
export const validate = ajv.compile(schema);

/** Why `value` is not a valid event, or null when it is. */
export function schemaErrors(value: unknown): string | null {
  return validate(value) ? null : ajv.errorsText(validate.errors, { separator: '\n' });
}
