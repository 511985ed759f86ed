// The inbound settings: keyword lists and replies per sender and type, the opt-out scope and the
// ACS mirror — parsed with clear errors, and resolved with the documented precedence.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config.js';
import { keywordsFor, replyFor } from '../../shared/domain/inboundPolicy.js';
import { DEFAULT_HELP_REPLY, DEFAULT_KEYWORDS, DEFAULT_STOP_REPLY } from '../../shared/domain/keywords.js';

const base = {
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  OUTBOUND_QUEUE_TRANSPORT: 'storage',
  ACS_CONNECTION_STRING: 'endpoint=http://127.0.0.1:7081/;accesskey=a2V5',
  SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"},{"number":"+18005550199","type":"shortCode"}]',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('inbound settings', () => {
  it('defaults: scope per sender, standard lists and texts, no mirror', () => {
    const { inbound } = loadConfig(base);
    expect(inbound).toEqual({ scope: 'sender', keywords: {}, replies: {}, mirrorOptOutsToAcs: false });
    expect(keywordsFor(inbound, '+18005550199')).toEqual(DEFAULT_KEYWORDS);
    expect(replyFor(inbound, '+18005550199', 'shortCode', 'optOut')).toBe(DEFAULT_STOP_REPLY);
    expect(replyFor(inbound, '+18005550100', 'tollFree', 'optOut')).toBeUndefined();
    expect(replyFor(inbound, '+18005550100', 'tollFree', 'optIn')).toBeUndefined();
    expect(replyFor(inbound, '+18005550100', 'tollFree', 'help')).toBe(DEFAULT_HELP_REPLY);
  });

  it('reads lists, texts per type and sender, scope and mirror', () => {
    const { inbound } = loadConfig({
      ...base,
      OPT_OUT_SCOPE: 'pool',
      ACS_OPT_OUT_MIRROR: 'true',
      INBOUND_KEYWORDS: '{"stop":["STOP","ARRET"],"senders":{"+18005550199":{"help":["HELP","AIDE"]}}}',
      INBOUND_REPLIES:
        '{"stop":"Bye.","help":"Acme.","types":{"tollFree":{"stop":"TF bye."}},"senders":{"+18005550199":{"help":null}}}',
    });
    expect(inbound.scope).toBe('pool');
    expect(inbound.mirrorOptOutsToAcs).toBe(true);
    expect(keywordsFor(inbound, '+18005550100').optOut).toEqual(['STOP', 'ARRET']);
    expect(keywordsFor(inbound, '+18005550199')).toMatchObject({ optOut: ['STOP', 'ARRET'], help: ['HELP', 'AIDE'] });
    expect(replyFor(inbound, '+18005550199', 'shortCode', 'optOut')).toBe('Bye.');
    expect(replyFor(inbound, '+18005550199', 'shortCode', 'help')).toBeUndefined();
    expect(replyFor(inbound, '+18005550100', 'tollFree', 'optOut')).toBe('TF bye.');
    expect(replyFor(inbound, '+18005550100', 'tollFree', 'optIn')).toBeUndefined();
    expect(replyFor(inbound, '+18005550100', 'tollFree', 'help')).toBe('Acme.');
  });

  it('names what is wrong', () => {
    expect(problemsOf({ ...base, OPT_OUT_SCOPE: 'everyone' })).toEqual(['OPT_OUT_SCOPE must be "sender" or "pool"']);
    expect(problemsOf({ ...base, ACS_OPT_OUT_MIRROR: 'yes' })).toEqual(['ACS_OPT_OUT_MIRROR must be "true" or "false"']);
    expect(problemsOf({ ...base, INBOUND_KEYWORDS: 'STOP,QUIT' })[0]).toMatch(/^INBOUND_KEYWORDS must be JSON, for example/);
    expect(problemsOf({ ...base, INBOUND_KEYWORDS: '{"stop":[]}' })[0]).toMatch(
      /^INBOUND_KEYWORDS \[stop\] must list at least one keyword/,
    );
    expect(problemsOf({ ...base, INBOUND_KEYWORDS: '{"quit":["QUIT"]}' })[0]).toMatch(/^INBOUND_KEYWORDS .*quit/);
    expect(problemsOf({ ...base, INBOUND_REPLIES: '{"help":""}' })[0]).toMatch(
      /^INBOUND_REPLIES \[help\] must not be empty \(use null for no reply\)/,
    );
    expect(problemsOf({ ...base, INBOUND_REPLIES: '{"types":{"landline":{"help":null}}}' })[0]).toMatch(
      /^INBOUND_REPLIES \[types/,
    );
    expect(problemsOf({ ...base, INBOUND_REPLIES: '{"senders":{"+19995550100":{"help":null}}}' })).toEqual([
      'INBOUND_REPLIES names +19995550100 under "senders", which is not in SMS_SENDERS',
    ]);
    expect(problemsOf({ ...base, INBOUND_KEYWORDS: '{"start":["START","YES","STOP"]}' })).toEqual([
      'INBOUND_KEYWORDS: "STOP" is both a stop and a start keyword',
    ]);
    expect(problemsOf({ ...base, INBOUND_KEYWORDS: '{"senders":{"+18005550199":{"help":["help","Stop"]}}}' })).toEqual([
      'INBOUND_KEYWORDS: "Stop" is both a stop and a help keyword for +18005550199',
    ]);
  });
});
