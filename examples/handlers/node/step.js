#!/usr/bin/env node
// A Baton command handler in JavaScript (Node.js, no packages): charges an order once.
//
//   BATON_HANDLER="command:/path/to/step.js /srv/payments" baton worker
//
// The argument is the folder of the payments ledger (ledger.jsonl, one charge per line), which
// stands in for a payment provider here. Session input:
// {"order": "A-1001", "customer": "c-42", "amountCents": 1250, "currency": "EUR"}
//
//   THINK      check the order and price it
//   EXECUTE    charge it, once per step (see charge)
//   INTEGRATE  the receipt
//
// Baton runs this program once per attempt of a step, with the step document on stdin, and
// stores the JSON it prints as the step's result; exit 0 is success, any other exit fails the
// attempt and Baton retries it. A step is delivered at least once: after a crash, the same
// step can run again although an earlier attempt already charged. So the charge is keyed by
// the step's idempotency key (the same on every attempt of this step) and made only once. With
// a real provider, send the key as its idempotency key instead (Stripe, Adyen and others take
// one); the provider then answers a repeated request with the first charge.
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

function think(doc) {
  const order = doc.session.input || {};
  if (typeof order.order !== "string" || typeof order.customer !== "string") {
    throw new Error('the session input needs "order" and "customer" (text)');
  }
  if (!Number.isInteger(order.amountCents) || order.amountCents <= 0) {
    throw new Error('"amountCents" must be a positive whole number');
  }
  return { order: order.order, customer: order.customer, amountCents: order.amountCents, currency: order.currency || "EUR" };
}

// Appends the charge to the ledger unless a charge with this key is there already; returns
// the charge either way. Two attempts of one step never run at the same time (Baton holds the
// session), so looking first and then appending is enough; one write per line keeps
// concurrent appends of other sessions whole.
function charge(ledger, key, priced) {
  const lines = fs.existsSync(ledger) ? fs.readFileSync(ledger, "utf8").split("\n").filter(Boolean) : [];
  const earlier = lines.map((line) => JSON.parse(line)).find((entry) => entry.key === key);
  if (earlier) return earlier.charge;
  const made = {
    chargeId: "ch_" + crypto.createHash("sha256").update(key).digest("hex").slice(0, 16),
    order: priced.order,
    amountCents: priced.amountCents,
    currency: priced.currency,
  };
  fs.appendFileSync(ledger, JSON.stringify({ key, charge: made }) + "\n");
  return made;
}

function main() {
  const folder = process.argv[2];
  if (!folder) {
    process.stderr.write("usage: step.js <folder of the payments ledger>\n");
    process.exit(2);
  }
  fs.mkdirSync(folder, { recursive: true });
  const doc = JSON.parse(fs.readFileSync(0, "utf8"));
  const previous = (step) => doc.previous[`${doc.phase}.${step}`];
  let result;
  try {
    switch (doc.step) {
      case "THINK":
        result = think(doc);
        break;
      case "EXECUTE":
        result = charge(path.join(folder, "ledger.jsonl"), doc.idempotencyKey, previous("THINK"));
        break;
      default: {
        const made = previous("EXECUTE");
        result = { receipt: `${made.order}: ${(made.amountCents / 100).toFixed(2)} ${made.currency} charged`, chargeId: made.chargeId };
      }
    }
  } catch (error) {
    // The attempt fails with this message and is retried (a command handler cannot fail the
    // session at once); after MAX_RETRIES the session is FAILED.
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(result));
}

main();
