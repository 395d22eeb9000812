import { z } from 'zod';

/**
 * What the check and the service hook normalizers share: the provider's names, how an Azure
 * value is read (unexpanded `$(Var)` macros count as absent), and the Kafka key of a run or
 * deployment.
 *
 * @module
 */

export const PREFIX = '[changegate/receivers/azure-devops]';
export const PROVIDER = 'azure-devops';

/** An Azure macro that did not expand (`$(ChangeNumber)` when the variable is not defined). */
export const UNEXPANDED = /\$\([^)]*\)/;

/** A string, or a number as a string; empty and unexpanded values count as absent. */
export const text = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .transform((v) => (v === '' || UNEXPANDED.test(v) ? undefined : v))
  .optional()
  .catch(undefined);

/** The value when it is an http(s) URL, else undefined. */
export const httpUrl = (value: string | undefined): string | undefined =>
  value && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol) ? value : undefined;

/** `azure-devops/<project>/<run or deployment id>`: the record key, subject and correlation id. */
export const key = (project: string, unit: string) => `${PROVIDER}/${project}/${unit}`;
