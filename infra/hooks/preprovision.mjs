// azd preprovision hook: checks the sender pool before anything is created, so a typo in
// SMS_SENDERS fails here with a readable message instead of at the function app's first start.
// The full validation (zod, shared/config.ts) still runs when the app starts.
const SENDER_TYPES = ['tollFree', 'shortCode', 'tenDlc', 'alphanumeric', 'mobile'];
const NUMBER = /^(\+[1-9]\d{7,14}|[A-Za-z0-9 ]{1,11})$/;
const EXAMPLE = `azd env set SMS_SENDERS '[{"number":"+18005550100","type":"tollFree"}]'`;

const raw = (process.env.SMS_SENDERS ?? '').trim();

if (raw === '') {
  const existing = process.env.ACS_RESOURCE_NAME;
  console.warn(
    [
      'SMS_SENDERS is not set: the function app will refuse to start ("SMS_SENDERS is required") until it is.',
      existing
        ? `Set it to the numbers of ${existing}, for example:`
        : 'Provisioning continues so that the Communication Services resource exists and you can buy a number on it',
      existing ? `  ${EXAMPLE}` : '(docs/deploy.md, "Get a phone number"); then run:',
      existing ? '' : `  ${EXAMPLE}`,
      existing ? '' : '  azd up',
    ]
      .filter(Boolean)
      .join('\n'),
  );
  process.exit(0);
}

const problems = [];
let senders;
try {
  senders = JSON.parse(raw);
} catch {
  problems.push('it is not JSON');
}
if (senders !== undefined) {
  if (!Array.isArray(senders) || senders.length === 0) {
    problems.push('it must be a JSON array with at least one sender');
  } else {
    const seen = new Set();
    senders.forEach((sender, i) => {
      if (typeof sender !== 'object' || sender === null) {
        problems.push(`[${i}] must be an object`);
        return;
      }
      if (typeof sender.number !== 'string' || !NUMBER.test(sender.number)) {
        problems.push(`[${i}].number must be an E.164 number such as +18005550100 or an alphanumeric sender id`);
      } else if (seen.has(sender.number)) {
        problems.push(`[${i}].number ${sender.number} is listed twice`);
      } else {
        seen.add(sender.number);
      }
      if (!SENDER_TYPES.includes(sender.type)) {
        problems.push(`[${i}].type must be one of ${SENDER_TYPES.join(', ')}`);
      }
    });
  }
}

if (problems.length > 0) {
  console.error(`SMS_SENDERS is not a valid sender pool: ${problems.join('; ')}.\nFor example:\n  ${EXAMPLE}`);
  process.exit(1);
}
console.log(`SMS_SENDERS: ${senders.length} sender(s).`);
