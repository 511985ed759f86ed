// `npm run token -- --app booking --roles Messages.Send,Messages.Read [--minutes 60] [--v1]`:
// prints an access token from the local test issuer of a running `npm start` with AUTH_MODE=entra
// (or both), signed with the key that stack saved in .local-issuer.json (docs/security.md).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mintToken, readIssuerFile } from './tokenIssuer.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    app: { type: 'string', default: 'local-app' },
    roles: { type: 'string', default: '' },
    minutes: { type: 'string', default: '60' },
    v1: { type: 'boolean', default: false },
  },
});
const file = path.join(root, '.local-issuer.json');
let saved: ReturnType<typeof readIssuerFile>;
try {
  saved = readIssuerFile(file);
} catch {
  console.error(
    `npm run token: no ${path.basename(file)}; start the stack with AUTH_MODE=entra (or both) in local.settings.json first (npm start).`,
  );
  process.exit(1);
}
const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) {
  console.error('npm run token: --minutes must be a number from 1 to 1440');
  process.exit(1);
}
const token = await mintToken(saved, {
  issuer: saved.issuer,
  audience: saved.audience,
  app: values.app,
  roles: values.roles
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean),
  expiresIn: Math.round(minutes * 60),
  version: values.v1 ? 1 : 2,
});
process.stdout.write(`${token}\n`);
