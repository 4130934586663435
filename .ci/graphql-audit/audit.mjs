// Runs the graphql-http server audits against a running freightgate.
// Usage: node audit.mjs URL KEY. Exits non-zero when any audit is not `ok`,
// except the warnings listed in ACCEPTED_WARNINGS (explained there).
import { serverAudits } from 'graphql-http';

const [url, key] = process.argv.slice(2);
if (!url || !key) {
  console.error('usage: node audit.mjs URL KEY');
  process.exit(2);
}

// Every request carries the API key, as a real client's would.
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${key}`);
  return fetch(input, { ...init, headers });
};

// Audits whose `warn` outcome is a choice, not a defect. Empty: none expected.
const ACCEPTED_WARNINGS = new Set([]);

const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
let failed = false;
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  counts[result.status] += 1;
  if (result.status !== 'ok') {
    const accepted = result.status !== 'error' && ACCEPTED_WARNINGS.has(audit.id);
    if (!accepted) failed = true;
    const detail = result.reason ?? '';
    console.log(`${result.status.toUpperCase()} ${audit.id} ${audit.name}: ${detail}`);
  }
}
console.log(`graphql-http audit: ${counts.ok} ok, ${counts.notice} notice, ${counts.warn} warn, ${counts.error} error`);
process.exit(failed ? 1 : 0);
