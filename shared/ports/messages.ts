// Message records, partitioned by batch.
import type { MessageRecord } from '../domain/message.js';
import type { Page, PageRequest } from './paging.js';

export interface MessageStore {
  /**
   * Inserts the records of one batch (any number; written in transactions of up to 100).
   * A record that already exists is left untouched, so inserting twice is harmless. A record with
   * a reference is findable by it (findByReference) from the moment it is stored.
   */
  insertBatch(records: MessageRecord[]): Promise<void>;
  /**
   * The records with the app's reference, in message id order (oldest batch first), a page at a
   * time; without reading the messages table whole.
   */
  findByReference(reference: string, options: PageRequest): Promise<Page<MessageRecord>>;
  /** One record by message id, with its etag; undefined when unknown. */
  get(messageId: string): Promise<MessageRecord | undefined>;
  /** The records of one batch with the given ids (one round trip); missing ids are absent from the map. */
  getMany(batchId: string, messageIds: readonly string[]): Promise<Map<string, MessageRecord>>;
  /** The record of `to` within a batch (recipients are unique per batch). */
  findInBatchByRecipient(batchId: string, to: string): Promise<MessageRecord | undefined>;
  /** Pages through a batch in message id order. */
  listBatch(batchId: string, options: PageRequest): Promise<Page<MessageRecord>>;
  /**
   * Writes records of ONE batch, each conditional on its etag (records without an etag are
   * inserted, and findable by their reference like insertBatch's), all or nothing. Throws ConcurrencyError when any of them changed meanwhile.
   * Updates each record's etag in place on success.
   */
  saveAll(records: MessageRecord[]): Promise<void>;
  /** Writes one record conditionally on its etag; throws ConcurrencyError when it changed. */
  save(record: MessageRecord): Promise<void>;
  /**
   * Remembers which message an ACS message id belongs to. Ids are kept by their key (domain/ids.ts
   * acsMessageKey), so the id in any of its decorations finds the message.
   */
  indexAcsMessageIds(entries: ReadonlyArray<{ acsMessageId: string; messageId: string }>): Promise<void>;
  /** The message id an ACS message id (in any decoration) belongs to, if known. */
  messageIdForAcsMessageId(acsMessageId: string): Promise<string | undefined>;
  /**
   * Every record sent to `to`, across batches. Records are partitioned by batch, so this reads
   * the whole table: for rare requests (erasure), never for the send path.
   */
  listByRecipient(to: string): Promise<MessageRecord[]>;
  /** Cheap reachability check. */
  ping(): Promise<void>;
}
