// A development stand-in for Azure Service Bus, speaking AMQP 1.0 (rhea) on loopback so that the
// real @azure/service-bus SDK runs against it unchanged. It is not Service Bus and not Microsoft's
// Service Bus emulator (which needs Docker); it covers what this pipeline uses and answers in the
// forms Microsoft documents. Each file cites its sources.
//
// Covers: plain-TCP AMQP as the SDK speaks to an emulator (a connection string with
// UseDevelopmentEmulator=true makes core-amqp pick transport "tcp" and no TLS — Azure/azure-sdk-for-js
// sdk/core/core-amqp/src/ConnectionContextBase.ts, added for Azure/azure-sdk-for-js#28549); SASL
// ANONYMOUS (the SDK's choice) and PLAIN; CBS put-token with SAS tokens signed with the configured
// key (a wrong key fails with 401 → UnauthorizedAccess); queues by name and their dead-letter
// sub-queue `<queue>/$DeadLetterQueue`; send, single and batched; scheduled messages and their
// cancellation; receive in peek-lock (credit, drain, lock tokens as delivery tags, broker
// annotations) and receive-and-delete; complete, abandon, dead-letter; renew-lock; lock expiry with
// redelivery; maxDeliveryCount → dead-letter queue (MaxDeliveryCountExceeded); time to live;
// duplicate detection by message-id; peek; settlement through $management (update-disposition).
//
// Does not cover: TLS and AMQP over WebSockets; Entra ID (jwt) tokens; SAS policies with fewer
// rights than Manage; topics and subscriptions; sessions; deferral and receive-by-sequence-number;
// transactions and send-via; partitioned entities; the HTTP management (ATOM) API — queues are
// configured when the stand-in starts, or with createQueue(); quotas other than the 256 KB message
// size; persistence (everything is in memory); token expiry on links already attached, and dropping
// connections that put no token within 20 s.
import type { AddressInfo, Server, Socket } from 'node:net';
import rhea from 'rhea';
import type { Connection, EventContext, Message, Receiver, Sender } from 'rhea';
import { ConnectionClaims, handleCbsRequest } from './cbs.js';
import { ConsumerLink } from './consumerLink.js';
import { handleManagementRequest } from './management.js';
import type { MessageEntity, QueueOptions } from './entities.js';
import { QueueStore } from './queueStore.js';
import { Condition, STANDARD_MAX_MESSAGE_SIZE, amqpError, encodeMessage, messagesOfTransfer } from './wire.js';

/**
 * The key name and key of Microsoft's Service Bus emulator, used when none is given: its connection
 * string is `Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;
 * UseDevelopmentEmulator=true;` (as .NET Aspire's AzureServiceBusResource builds it for the emulator).
 */
export const EMULATOR_KEY_NAME = 'RootManageSharedAccessKey';
export const EMULATOR_KEY = 'SAS_KEY_VALUE';

export interface ServiceBusStandInOptions {
  /** Port on 127.0.0.1; 0 or omitted picks a free one (5672, the AMQP port, is the SDK's default for an emulator). */
  port?: number;
  keyName?: string;
  key?: string;
  queues?: QueueOptions[];
  log?: (line: string) => void;
}

export interface ServiceBusStandIn {
  port: number;
  /** A connection string the SDK accepts: sb://127.0.0.1:<port>, the key, UseDevelopmentEmulator=true. */
  connectionString: string;
  store: QueueStore;
  createQueue(options: QueueOptions): void;
  /** Simulates an outage: connections are dropped and refused until goOnline(); queues, messages and locks survive. */
  goOffline(): Promise<void>;
  goOnline(): Promise<void>;
  close(): Promise<void>;
}

interface ConnectionState {
  claims: ConnectionClaims;
  /** Reply-to address (or link name) → the link the client receives responses on ($cbs and $management). */
  replies: Map<string, Sender>;
  consumers: Set<ConsumerLink>;
}

const MANAGEMENT_SUFFIX = '/$management';

function addressOf(terminus: unknown): string {
  const address = (terminus as { address?: unknown } | undefined)?.address;
  return typeof address === 'string' ? address : '';
}

/** rhea keeps the attach it will send in link.local.attach; its typings do not declare it. */
function localAttach(link: Sender | Receiver): Record<string, unknown> {
  return (link as unknown as { local: { attach: Record<string, unknown> } }).local.attach;
}

/** Answers the client's attach with the same source and target and settle modes, as the protocol guide's tables show. */
function mirrorAttach(link: Sender | Receiver): void {
  const attach = localAttach(link);
  attach.source = (link as unknown as { remote: { attach: { source?: unknown } } }).remote.attach.source;
  attach.target = (link as unknown as { remote: { attach: { target?: unknown } } }).remote.attach.target;
  attach.snd_settle_mode = link.snd_settle_mode;
  attach.rcv_settle_mode = link.rcv_settle_mode;
}

/** Whether the connection authenticated with SASL PLAIN (rhea keeps the mechanism on its SASL transport). */
function usedSaslPlain(connection: Connection): boolean {
  type Transport = { selected?: Transport; mechanism?: { callback?: unknown } };
  const transport = (connection as unknown as { sasl_transport?: Transport }).sasl_transport;
  const server = transport?.selected ?? transport;
  return typeof server?.mechanism?.callback === 'function';
}

export async function startServiceBusStandIn(options: ServiceBusStandInOptions = {}): Promise<ServiceBusStandIn> {
  const log = options.log ?? (() => undefined);
  const policy = { keyName: options.keyName ?? EMULATOR_KEY_NAME, key: options.key ?? EMULATOR_KEY };
  const store = new QueueStore(options.queues ?? []);
  const states = new WeakMap<Connection, ConnectionState>();
  const connections = new Set<Connection>();
  const sockets = new Set<Socket>();

  const container = rhea.create_container({ id: 'servicebus-standin' });
  container.sasl_server_mechanisms.enable_anonymous();
  container.sasl_server_mechanisms.enable_plain(
    (username: string, password: string) => username === policy.keyName && password === policy.key,
  );

  const stateOf = (connection: Connection): ConnectionState => {
    let state = states.get(connection);
    if (!state) {
      state = { claims: new ConnectionClaims(), replies: new Map(), consumers: new Set() };
      if (usedSaslPlain(connection)) state.claims.grantNamespace();
      states.set(connection, state);
      connections.add(connection);
    }
    return state;
  };
  const forget = (connection: Connection) => {
    const state = states.get(connection);
    for (const consumer of state?.consumers ?? []) consumer.close();
    states.delete(connection);
    connections.delete(connection);
  };

  /** Refuses an attach the way the protocol guide shows: attach with null source and target, then detach with the error. */
  const refuse = (link: Sender | Receiver, condition: string, description: string) => {
    log(`[service-bus] attach to '${addressOf(link.is_sender() ? link.source : link.target)}' refused: ${description}`);
    link.close(amqpError(condition, description));
  };

  /** The entity behind an address, or a refusal: unknown queue → not-found; no token for it → unauthorized. */
  const resolve = (
    link: Sender | Receiver,
    state: ConnectionState,
    address: string,
    right: string,
  ): MessageEntity | undefined => {
    const path = address.endsWith(MANAGEMENT_SUFFIX) ? address.slice(0, -MANAGEMENT_SUFFIX.length) : address;
    const entity = store.entity(path);
    if (!entity) {
      refuse(
        link,
        Condition.notFound,
        `The messaging entity '${address}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.`,
      );
      return undefined;
    }
    if (!state.claims.allows(address, Date.now())) {
      refuse(
        link,
        Condition.unauthorized,
        `Unauthorized access. '${right}' claim(s) are required to perform this operation. Resource: '${address}'.`,
      );
      return undefined;
    }
    return entity;
  };

  const reply = (state: ConnectionState, request: Message, response: Message) => {
    const link = state.replies.get(String(request.reply_to ?? ''));
    if (link?.is_open()) link.send(response);
    else log(`[service-bus] no reply link for '${String(request.reply_to)}'; response dropped`);
  };

  // The client attaches a receiver: the broker is the sender.
  container.on('sender_open', (context: EventContext) => {
    const sender = context.sender!;
    const state = stateOf(context.connection);
    const source = addressOf(sender.source);
    const target = addressOf(sender.target);
    if (source === '$cbs' || source.endsWith(MANAGEMENT_SUFFIX)) {
      if (source !== '$cbs' && !resolve(sender, state, source, 'Manage')) return;
      mirrorAttach(sender);
      // A response goes to the link whose target address is the request's reply-to; core-amqp's
      // CBS client gives its receiver no target and uses the link name as reply-to (cbs.ts).
      for (const address of new Set([target || sender.name])) {
        state.replies.set(address, sender);
        sender.on('sender_close', () => state.replies.delete(address));
      }
      return;
    }
    const entity = resolve(sender, state, source, 'Listen');
    if (!entity) return;
    mirrorAttach(sender);
    // receive-and-delete → snd-settle-mode settled (1); peek-lock → unsettled (0) (SDK core/shared.ts createReceiverOptions).
    const consumer = new ConsumerLink(sender, entity, store, sender.snd_settle_mode === 1 ? 'receiveAndDelete' : 'peekLock');
    state.consumers.add(consumer);
    sender.on('sender_close', () => state.consumers.delete(consumer));
  });

  // The client attaches a sender: the broker is the receiver.
  container.on('receiver_open', (context: EventContext) => {
    const receiver = context.receiver!;
    const state = stateOf(context.connection);
    const target = addressOf(receiver.target);
    if (target === '$cbs') {
      mirrorAttach(receiver);
      receiver.on('message', (ctx: EventContext) => {
        ctx.delivery?.accept();
        reply(state, ctx.message!, handleCbsRequest(ctx.message!, state.claims, policy, Date.now(), log));
      });
      return;
    }
    const entity = resolve(receiver, state, target, target.endsWith(MANAGEMENT_SUFFIX) ? 'Manage' : 'Send');
    if (!entity) return;
    if (target.endsWith(MANAGEMENT_SUFFIX)) {
      mirrorAttach(receiver);
      receiver.on('message', (ctx: EventContext) => {
        ctx.delivery?.accept();
        reply(state, ctx.message!, handleManagementRequest(ctx.message!, entity, store));
      });
      return;
    }
    if (entity.isDeadLetterQueue) {
      // Docs (service-bus-dead-letter-queues.md): "messages can only be submitted via the dead-letter operation of the parent entity".
      refuse(receiver, Condition.notAllowed, `Messages cannot be sent to the dead-letter queue '${target}'.`);
      return;
    }
    mirrorAttach(receiver);
    localAttach(receiver).max_message_size = STANDARD_MAX_MESSAGE_SIZE;
    receiver.on('message', (ctx: EventContext) => {
      const delivery = ctx.delivery!;
      try {
        const format = (ctx as { format?: number }).format;
        const messages = messagesOfTransfer(ctx.message as Message | Buffer, format);
        const tooLarge = messages.find((m) => encodeMessage(m).length > STANDARD_MAX_MESSAGE_SIZE);
        if (tooLarge) {
          delivery.reject(
            amqpError(Condition.messageSizeExceeded, `The message exceeds the limit of ${STANDARD_MAX_MESSAGE_SIZE} bytes.`),
          );
          return;
        }
        for (const message of messages) store.send(entity, message);
        delivery.accept();
      } catch (error) {
        delivery.reject(amqpError(Condition.internal, (error as Error).message));
      }
    });
  });

  container.on('connection_open', (context: EventContext) => void stateOf(context.connection));
  container.on('connection_close', (context: EventContext) => forget(context.connection));
  container.on('disconnected', (context: EventContext) => forget(context.connection));
  // Link, session and connection errors a client causes end up here when nothing else handles them.
  container.on('error', (error: Error) => log(`[service-bus] ${error.message}`));

  // Links need explicit control: no automatic accept of sends, no automatic settlement, and
  // "modified" reported as such (rhea would call it "released"), so abandon and defer differ.
  const listen = async (port: number): Promise<Server> => {
    const server = container.listen({
      port,
      host: '127.0.0.1',
      autoaccept: false,
      autosettle: false,
      treat_modified_as_released: false,
    } as unknown as Parameters<typeof container.listen>[0]) as Server;
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolvePromise, reject) => {
      server.once('error', reject);
      server.once('listening', () => resolvePromise());
    });
    return server;
  };
  /**
   * Stops listening and drops every connection at once, as a network failure would. rhea only hears of
   * a socket's end from its peer, so the broker forgets its own side of each connection here.
   */
  const stopListening = (server: Server) =>
    new Promise<void>((resolvePromise) => {
      server.close(() => resolvePromise());
      for (const connection of [...connections]) forget(connection);
      for (const socket of sockets) socket.destroy();
    });

  let server: Server | undefined = await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  log(`[service-bus] Service Bus stand-in on amqp://127.0.0.1:${port} (queues: ${store.queueNames().join(', ') || 'none'})`);

  return {
    port,
    connectionString: `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=${policy.keyName};SharedAccessKey=${policy.key};UseDevelopmentEmulator=true`,
    store,
    createQueue(queue: QueueOptions) {
      store.addQueue(queue);
    },
    async goOffline() {
      if (!server) return;
      const s = server;
      server = undefined;
      await stopListening(s);
      log('[service-bus] offline: connections dropped and refused until goOnline()');
    },
    async goOnline() {
      server ??= await listen(port);
    },
    async close() {
      // Close frames first, so clients see a clean close; whatever is still open after a moment is dropped.
      for (const connection of connections) connection.close();
      for (let waited = 0; sockets.size > 0 && waited < 500; waited += 50) await new Promise((r) => setTimeout(r, 50));
      store.close();
      if (server) await stopListening(server);
      server = undefined;
    },
  };
}
