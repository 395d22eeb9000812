import { z } from 'zod';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const MIB = 1024 * 1024;

/** A Standard Webhooks secret: `whsec_` + base64 of the key bytes (the prefix is optional). */
export const WhsecSchema = z
  .string()
  .regex(/^(whsec_)?[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_<base64>, as Standard Webhooks defines');
