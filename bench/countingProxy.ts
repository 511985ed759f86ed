// A counting reverse proxy in front of Azurite: the function host talks to storage through it,
// and every request is recorded as an operation (service, kind, table or queue, entities in a
// transaction, status). Round-trips are then counted, not timed, so the figures are the same on
// any machine that runs the same code.
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';

export type StorageService = 'table' | 'queue' | 'blob';

export interface StorageOp {
  service: StorageService;
  /** e.g. table.batch, table.query, table.get, table.insert, table.update, queue.put, queue.get … */
  kind: string;
  /** Table or queue name. */
  target: string;
  /** Entity operations a table transaction carries (1 for everything else). */
  entities: number;
  /** The kinds of those entity operations (create, replace, merge, upsert, delete). */
  entityOps?: string[];
  status: number;
  /** A queue receive that returned no message (idle polling, not work). */
  empty?: boolean;
  /** Entities a table query returned. */
  results?: number;
  /** The properties of the (first) entity a table write carried, keys and type annotations left out. */
  entity?: Record<string, unknown>;
  /** The partition the operation addressed (key in the URL, the entity, or the query's PartitionKey eq). */
  partitionKey?: string;
  /** Set by the counter: whether other requests addressed another partition at this step. */
  partitionVaries?: boolean;
  requestBytes: number;
  at: number;
}

export interface CountingProxy {
  /** The connection string to give the function host: the same account, through the proxy. */
  connectionString: string;
  /** Every operation since the last reset. */
  readonly ops: StorageOp[];
  reset(): void;
  close(): Promise<void>;
}

const SUB_REQUEST = /^(POST|PUT|MERGE|PATCH|DELETE|GET) (https?:\/\/\S+) HTTP\/1\.1\r?$/gm;

/** Table name and key part of a table-service path such as /devstoreaccount1/messages(PartitionKey='a',RowKey='b'). */
function tablePath(pathname: string): { table: string; keyed: boolean; list: boolean } {
  const last = decodeURIComponent(pathname.split('/').filter(Boolean).at(-1) ?? '');
  const m = /^([^(]+)(\((.*)\))?$/.exec(last);
  const table = m?.[1] ?? last;
  const inner = m?.[3];
  return { table, keyed: inner !== undefined && inner.length > 0, list: inner !== undefined && inner.length === 0 };
}

export function classifyTable(
  method: string,
  url: URL,
  headers: IncomingMessage['headers'],
  body: string,
): Omit<StorageOp, 'status' | 'requestBytes' | 'at'> {
  const { table, keyed, list } = tablePath(url.pathname);
  if (table === '$batch') {
    const entityOps: string[] = [];
    let target = '';
    for (const m of body.matchAll(SUB_REQUEST)) {
      const sub = new URL(m[2]!);
      const subPath = tablePath(sub.pathname);
      target ||= subPath.table;
      const subHeaders = body.slice(m.index ?? 0, (m.index ?? 0) + 2000);
      const hasIfMatch = /^If-Match:/im.test(subHeaders.split(/\r?\n\r?\n/)[0] ?? '');
      entityOps.push(subOp(m[1]!, subPath.keyed, hasIfMatch));
    }
    return { service: 'table', kind: 'table.batch', target, entities: entityOps.length, entityOps };
  }
  if (table === 'Tables')
    return { service: 'table', kind: method === 'POST' ? 'table.createTable' : 'table.tables', target: '', entities: 1 };
  if (method === 'GET') {
    if (keyed) return { service: 'table', kind: 'table.get', target: table, entities: 1 };
    return { service: 'table', kind: 'table.query', target: table, entities: 1 };
  }
  void list;
  return {
    service: 'table',
    kind: `table.${subOp(method, keyed, headers['if-match'] !== undefined)}`,
    target: table,
    entities: 1,
  };
}

function subOp(method: string, keyed: boolean, ifMatch: boolean): string {
  if (method === 'POST' && !keyed) return 'insert';
  if (method === 'DELETE') return 'delete';
  if (method === 'PUT') return ifMatch ? 'replace' : 'upsert';
  if (method === 'MERGE' || method === 'PATCH') return ifMatch ? 'merge' : 'upsertMerge';
  return method.toLowerCase();
}

export function classifyQueue(method: string, url: URL): Omit<StorageOp, 'status' | 'requestBytes' | 'at'> {
  const parts = url.pathname.split('/').filter(Boolean); // [account, queue, 'messages', id?]
  const target = decodeURIComponent(parts[1] ?? '');
  const op = (kind: string) => ({ service: 'queue' as const, kind: `queue.${kind}`, target, entities: 1 });
  if (parts[2] === 'messages') {
    if (method === 'POST') return op('put');
    if (method === 'GET') return op(url.searchParams.get('peekonly') === 'true' ? 'peek' : 'get');
    if (method === 'DELETE') return op(parts[3] ? 'delete' : 'clear');
    if (method === 'PUT') return op('update');
  }
  if (method === 'PUT' && !url.searchParams.has('comp')) return op('create');
  if (method === 'GET' && url.searchParams.get('comp') === 'metadata') return op('properties');
  return op(`${method.toLowerCase()}${url.searchParams.get('comp') ? `.${url.searchParams.get('comp')}` : ''}`);
}

/** The partition a table request addresses: the key in its URL (or its first part's), the query's PartitionKey eq, or the body's. */
function partitionOf(url: URL, body: string): string | undefined {
  let path = url.pathname;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    // not percent-encoded as expected: look at it as it is
  }
  const keyed = /PartitionKey='((?:[^']|'')*)'/.exec(path);
  if (keyed) return keyed[1]!.replace(/''/g, "'");
  const sub = /PartitionKey='((?:[^']|'')*)'/.exec(body) ?? /PartitionKey%27?=%27((?:[^%]|%(?!27))*)%27/.exec(body);
  if (sub) return safeDecode(sub[1]!).replace(/''/g, "'");
  const filter = url.searchParams.get('$filter');
  const eq = filter ? /PartitionKey eq '((?:[^']|'')*)'/.exec(filter) : null;
  if (eq) return eq[1]!.replace(/''/g, "'");
  const json = /"PartitionKey"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(body);
  return json ? (JSON.parse(`"${json[1]}"`) as string) : undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) count++;
  return count;
}

/** The first JSON entity of a table request body (a single write, or the first part of a transaction). */
function firstEntity(body: string): Record<string, unknown> | undefined {
  const start = body.indexOf('{');
  if (start < 0) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      try {
        const parsed = JSON.parse(body.slice(start, i + 1)) as Record<string, unknown>;
        return Object.fromEntries(
          Object.entries(parsed).filter(
            ([k]) => !k.includes('@') && !k.startsWith('odata.') && k !== 'PartitionKey' && k !== 'RowKey',
          ),
        );
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function startOne(
  service: StorageService,
  targetPort: number,
  ops: () => StorageOp[],
): Promise<{ server: Server; port: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const server = createServer(async (req, res) => {
    try {
      const body = await readAll(req);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = (req.method ?? 'GET').toUpperCase();
      const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
        const forward = httpRequest(
          { host: '127.0.0.1', port: targetPort, method, path: req.url, headers: req.headers, agent },
          resolve,
        );
        forward.once('error', reject);
        forward.end(body);
      });
      const answer = await readAll(upstream);
      const base =
        service === 'table'
          ? classifyTable(method, url, req.headers, body.toString('latin1'))
          : service === 'queue'
            ? classifyQueue(method, url)
            : { service, kind: `blob.${method.toLowerCase()}`, target: url.pathname.split('/')[2] ?? '', entities: 1 };
      const status = upstream.statusCode ?? 0;
      const op: StorageOp = { ...base, status, requestBytes: body.length, at: Date.now() };
      if (op.kind === 'queue.get') op.empty = !answer.includes('<QueueMessage>');
      if (op.kind === 'table.query') op.results = countOccurrences(answer.toString('utf8'), '"PartitionKey"');
      if (op.service === 'table' && !['table.query', 'table.get', 'table.delete', 'table.createTable'].includes(op.kind)) {
        const entity = firstEntity(body.toString('utf8'));
        if (entity) op.entity = entity;
      }
      if (op.service === 'table') {
        const partitionKey = partitionOf(url, body.toString('utf8'));
        if (partitionKey !== undefined) op.partitionKey = partitionKey;
      }
      ops().push(op);
      res.writeHead(status, upstream.headers).end(answer);
    } catch (error) {
      if (!res.headersSent) res.writeHead(502).end(String(error));
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

/** Starts a proxy per storage endpoint of the connection string and returns one through them. */
export async function startCountingProxy(azuriteConnectionString: string): Promise<CountingProxy> {
  let ops: StorageOp[] = [];
  const servers: Server[] = [];
  let connectionString = azuriteConnectionString;
  const endpoints: Array<[StorageService, string]> = [
    ['table', 'TableEndpoint'],
    ['queue', 'QueueEndpoint'],
    ['blob', 'BlobEndpoint'],
  ];
  for (const [service, key] of endpoints) {
    const m = new RegExp(`${key}=http://127\\.0\\.0\\.1:(\\d+)`).exec(connectionString);
    if (!m) continue;
    const { server, port } = await startOne(service, Number(m[1]), () => ops);
    servers.push(server);
    connectionString = connectionString.replace(`${key}=http://127.0.0.1:${m[1]}`, `${key}=http://127.0.0.1:${port}`);
  }
  return {
    connectionString,
    get ops() {
      return ops;
    },
    reset() {
      ops = [];
    },
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
