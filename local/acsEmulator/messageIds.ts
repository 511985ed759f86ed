// Message ids in the forms ACS has published (acsFacts.ts MESSAGE_ID_FORMS): what POST /sms returns
// for each api-version, the form events carry, and the ids of received texts.
import { randomUUID } from 'node:crypto';
import { RECORDED_ID_REGIONS } from '../../shared/domain/acsFacts.js';
import type { FormSettings, SendIdForm } from './settings.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** "20200610203725": the yyyyMMddHHmmss stamp the Outgoing_/Incoming_ forms start with. */
function stamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

type ConcreteForm = Exclude<SendIdForm, 'auto'>;

/** The form and suffix published for a version (FormSettings.messageIds.send 'auto'). */
function autoForm(apiVersion: string): { form: ConcreteForm; suffix: '' | '_noam' } {
  // Live recordings: 2021-03-07 ids end in _noam (recordings of 2021 and 2022), 2024-12-10-preview
  // ids are regional. Spec examples: Outgoing_… on the 2025 versions, no prefix on 2026-01-23.
  if (apiVersion === '2024-12-10-preview') return { form: 'regional', suffix: '' };
  if (apiVersion === '2026-01-23') return { form: 'bare', suffix: '' };
  if (apiVersion.startsWith('2025-')) return { form: 'outgoing', suffix: '' };
  return { form: 'outgoing', suffix: '_noam' };
}

/** A new outgoing message id in the form the settings and the api-version call for. */
export function newOutgoingMessageId(
  forms: FormSettings,
  apiVersion: string,
  now: Date = new Date(),
  pick = Math.random,
): string {
  const auto = autoForm(apiVersion);
  const form = forms.messageIds.send === 'auto' ? auto.form : forms.messageIds.send;
  const suffix =
    forms.messageIds.suffix === 'auto' ? auto.suffix : forms.messageIds.suffix === 'none' ? '' : forms.messageIds.suffix;
  const guid = randomUUID();
  switch (form) {
    case 'guid':
      return guid;
    case 'regional': {
      const region = RECORDED_ID_REGIONS[Math.floor(pick() * RECORDED_ID_REGIONS.length)] ?? RECORDED_ID_REGIONS[0];
      return `${now.toISOString().slice(0, 19)}_${guid}_${region}_outgoing-mms`;
    }
    case 'bare':
      return `${stamp(now)}${guid}${suffix}`;
    case 'outgoing':
      return `Outgoing_${stamp(now)}${guid}${suffix}`;
  }
}

const DECORATED = /^(?:Outgoing_)?(\d{14}[0-9a-f-]+?)(?:_noam|_prod_nam)?$/i;

/**
 * The id an event carries for a message sent with `sentId`: with 'published', the event examples'
 * Outgoing_<stamp><guid> for ids of the Outgoing_/bare family (no suffix), the sent id otherwise
 * (no event has been published for the regional form).
 */
export function eventMessageId(sentId: string, forms: FormSettings): string {
  if (forms.messageIds.events === 'asSent') return sentId;
  const core = DECORATED.exec(sentId)?.[1];
  return core ? `Outgoing_${core}` : sentId;
}

/** "Incoming_<yyyyMMddHHmmss><guid>" as in the SMSReceived examples, or a GUID for the 'guid' form. */
export function newIncomingMessageId(forms: FormSettings, now: Date = new Date()): string {
  return forms.messageIds.send === 'guid' ? randomUUID() : `Incoming_${stamp(now)}${randomUUID()}`;
}
