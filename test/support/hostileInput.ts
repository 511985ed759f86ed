// Generators of hostile input for the property tests: random JSON, deep nesting, huge strings,
// wrong types, prototype-polluting keys, truncated JSON and bytes that are not UTF-8.
import fc from 'fast-check';

/** Fixed, printed, so a failure can be replayed. */
export const PROPERTY_SEED = 20261125;
export const PROPERTY_RUNS = 200;

const pollution = fc.constantFrom(
  '{"__proto__":{"polluted":true},"to":"+14255550123","message":"x"}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"to":{"__proto__":{"length":5}},"message":"x"}',
  '[{"__proto__":null}]',
);

const deep = fc.integer({ min: 50, max: 5000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);
const deepObject = fc.integer({ min: 50, max: 2000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`);
const huge = fc
  .integer({ min: 100_000, max: 600_000 })
  .map((n) => JSON.stringify({ to: '+14255550123', message: 'x'.repeat(n) }));
const truncated = fc
  .jsonValue()
  .map((v) => JSON.stringify({ to: ['+14255550123'], message: 'hello', extra: v }))
  .chain((s) => fc.integer({ min: 1, max: Math.max(1, s.length - 1) }).map((cut) => s.slice(0, cut)));
const wrongTypes = fc
  .record({
    to: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer()), fc.object(), fc.string()),
    message: fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string()), fc.constant(''), fc.string({ maxLength: 3000 })),
    from: fc.oneof(fc.integer(), fc.string(), fc.constant(undefined)),
    scheduledAt: fc.oneof(fc.string(), fc.integer(), fc.constant(undefined)),
    metadata: fc.oneof(fc.jsonValue(), fc.constant(undefined)),
    tag: fc.oneof(fc.string({ maxLength: 200 }), fc.integer(), fc.constant(undefined)),
  })
  .map((r) => JSON.stringify(r));
const randomJson = fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v));
const randomText = fc.string({ maxLength: 2000 });

/** A request body as text. */
export const hostileJsonText = fc.oneof(
  { weight: 3, arbitrary: randomJson },
  { weight: 3, arbitrary: wrongTypes },
  { weight: 2, arbitrary: truncated },
  { weight: 1, arbitrary: pollution },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: deepObject },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: randomText },
);

/** Bytes that are not valid UTF-8, wrapped in something JSON-looking. */
export const nonUtf8Body = fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => {
  const invalid = Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc]);
  return Buffer.concat([Buffer.from('{"to":"+14255550123","message":"'), Buffer.from(bytes), invalid, Buffer.from('"}')]);
});

/** Path segments and query values that try every trick. */
export const hostileSegment = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.constantFrom(
    '..',
    '../..',
    '%00',
    '%2F',
    "'",
    "' or '1' eq '1",
    '*',
    '\\',
    '#',
    '?x=1',
    'a'.repeat(2000),
    '01jdx7k9m2qh3v8s4t1cab-999',
    '😀',
  ),
);

/** An event body (one event or an array) in either schema, mostly wrong. */
export const hostileEvent = fc.oneof(
  fc.jsonValue({ maxDepth: 5 }),
  fc.record({
    id: fc.oneof(fc.string(), fc.integer()),
    eventType: fc.constantFrom(
      'Microsoft.Communication.SMSDeliveryReportReceived',
      'Microsoft.Communication.SMSReceived',
      'Other',
      '',
    ),
    data: fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({
        messageId: fc.oneof(fc.string(), fc.integer(), fc.constant(undefined)),
        MessageId: fc.oneof(fc.string(), fc.constant(undefined)),
        from: fc.oneof(fc.string(), fc.integer(), fc.constant(undefined)),
        to: fc.oneof(fc.string(), fc.constant(null), fc.constant(undefined)),
        message: fc.oneof(fc.string({ maxLength: 500 }), fc.integer(), fc.constant(undefined)),
        deliveryStatus: fc.oneof(fc.constantFrom('Delivered', 'Failed', 'delivered', 'Unknown', ''), fc.integer()),
        deliveryAttempts: fc.oneof(fc.jsonValue(), fc.array(fc.object())),
        tag: fc.oneof(fc.string(), fc.constant(undefined)),
      }),
    ),
    eventTime: fc.oneof(fc.string(), fc.constant(undefined)),
  }),
  fc.record({
    specversion: fc.constant('1.0'),
    id: fc.string(),
    type: fc.constantFrom('Microsoft.Communication.SMSDeliveryReportReceived', 'Microsoft.Communication.SMSReceived', 'x'),
    source: fc.string(),
    data: fc.jsonValue({ maxDepth: 4 }),
  }),
);
