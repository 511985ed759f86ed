// Pieces several resources' contracts share: tags, metadata, sender and paging parameters.
import { z } from 'zod';

export const MAX_METADATA_KEYS = 10;
export const MAX_METADATA_BYTES = 2048;

export const tagSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9_.:-]+$/, 'may contain only letters, digits, _ . : -')
  .describe('Campaign or category, for analytics and filtering.');

export const metadataSchema = z
  .record(
    z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'keys must be 1-40 letters, digits, _ . -'),
    z.string().max(256, 'values must be at most 256 characters'),
  )
  .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, `must have at most ${MAX_METADATA_KEYS} keys`)
  .refine(
    (m) => Buffer.byteLength(JSON.stringify(m)) <= MAX_METADATA_BYTES,
    `must be at most ${MAX_METADATA_BYTES} bytes as JSON`,
  )
  .describe('Your own small string map, echoed in every status event of the message.');

/** A sender number in a query: values arrive as strings, and "+" in a query string often arrives as a space. */
export const senderParam = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(20, 'must be at most 20 characters')
  .transform((v) => (/^\+?\d{8,15}$/.test(v) ? `+${v.replace(/^\+/, '')}` : v));

/** Items per page of a listing, 1-max. Query values arrive as strings, hence the coercion. */
export const pageLimit = (max: number, fallback: number) =>
  z.coerce
    .number({ message: `must be a whole number from 1 to ${max}` })
    .int(`must be a whole number from 1 to ${max}`)
    .min(1, `must be a whole number from 1 to ${max}`)
    .max(max, `must be a whole number from 1 to ${max}`)
    .default(fallback)
    .describe(`Items per page, 1-${max} (default ${fallback}).`);

export const continuationToken = z
  .string()
  .min(1)
  .max(2048)
  .optional()
  .describe('The continuationToken of the previous page; absent for the first page.');

/** A page query of any listing. Not strict: the function key may come as ?code=, and unknown parameters are ignored. */
export const pageQuery = z.object({ limit: pageLimit(1000, 100), continuationToken });
