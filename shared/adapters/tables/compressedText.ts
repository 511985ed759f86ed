// Text too large for one Table Storage property (64 KiB), kept gzip-compressed in Binary properties
// `<prefix>0`, `<prefix>1` … of one entity, with their count in `<prefix>Chunks`. An entity holds at
// most 1 MiB, so MAX_CHUNKS x 64 KiB leaves room for its other properties.
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Largest Binary property value Table Storage accepts. */
export const MAX_CHUNK_BYTES = 64 * 1024;
/** Chunks per entity: 14 x 64 KiB leaves room for the other properties within the 1 MiB entity limit. */
export const MAX_CHUNKS = 14;

/** The properties holding `text` (`<prefix>Chunks` = -1 for no text). Throws when it cannot fit. */
export async function compressedProperties(
  prefix: string,
  text: string | undefined,
  what: string,
): Promise<Record<string, unknown>> {
  if (text === undefined) return { [`${prefix}Chunks`]: -1 };
  const zipped = await gzipAsync(Buffer.from(text, 'utf8'));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < zipped.length; i += MAX_CHUNK_BYTES) chunks.push(new Uint8Array(zipped.subarray(i, i + MAX_CHUNK_BYTES)));
  if (chunks.length === 0) chunks.push(new Uint8Array(0));
  if (chunks.length > MAX_CHUNKS) {
    throw new Error(`${what} too large to keep: ${zipped.length} bytes compressed, at most ${MAX_CHUNKS * MAX_CHUNK_BYTES}`);
  }
  const properties: Record<string, unknown> = { [`${prefix}Chunks`]: chunks.length };
  chunks.forEach((chunk, i) => (properties[`${prefix}${i}`] = chunk));
  return properties;
}

/**
 * The text kept by compressedProperties: a string, null when none was kept (-1), undefined when
 * the entity does not hold it whole (a chunk missing or unreadable).
 */
export async function readCompressed(entity: Record<string, unknown>, prefix: string): Promise<string | null | undefined> {
  const count = entity[`${prefix}Chunks`];
  if (count === -1) return null;
  if (typeof count !== 'number' || count < 0) return undefined;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const part = entity[`${prefix}${i}`];
    if (!(part instanceof Uint8Array)) return undefined;
    parts.push(part);
  }
  try {
    return (await gunzipAsync(Buffer.concat(parts))).toString('utf8');
  } catch {
    return undefined;
  }
}
