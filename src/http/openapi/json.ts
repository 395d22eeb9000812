import { z } from 'zod';

/**
 * The small builders every part of the OpenAPI document shares: `$ref`s into `components`, a
 * header parameter, and a zod schema as JSON Schema.
 *
 * @module
 */

/** A JSON object of the document. */
export type Json = Record<string, unknown>;

/** `$ref` to `#/components/schemas/<name>`. */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
/** `$ref` to `#/components/responses/<name>`. */
export const resp = (name: string) => ({ $ref: `#/components/responses/${name}` });
/** `$ref` to `#/components/parameters/<name>`. */
export const param = (name: string) => ({ $ref: `#/components/parameters/${name}` });

/** A header parameter; required unless told otherwise. */
export const header = (
  name: string,
  description: string,
  schema: Json = { type: 'string' },
  required = true,
): Json => ({ name, in: 'header', required, description, schema });

/** zod → JSON Schema as a sender writes it (`io: 'input'`), without the dialect marker. */
export function fromZod(schema: z.ZodType): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Json;
  return rest;
}
