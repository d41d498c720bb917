"""Notifications to beneficiaries: a message on App IO and by e-mail when a voucher is
issued, at each redemption and reversal, when the balance falls below a threshold, 30 days
before expiry, and at revocation.

How a message travels:
1. **The event is written with the change.** Every change of state is already an audit
   event written in the transaction that makes the change (voucher.services.audit). The
   audit trail is the outbox: nothing is lost if the process dies after the commit, and
   nothing is announced for a change that rolled back.
2. **The relay** (`relay.pump`) reads the events after its cursor, in sequence order
   (seq is assigned under the chain head's lock, so commit order), and turns each one that
   concerns a family into one `notification` row per channel, moving the cursor in the same
   transaction. `dedupe_key` (event and channel) is unique: an event is notified once.
   The daily expiry notices are rows keyed by voucher, made by `relay.expiring`.
3. **Delivery** (`delivery.deliver`) claims a due row under a lease, sends it, and records
   the outcome: sent (with IO's message id), retried later with exponential backoff (IO's
   429 and its Retry-After are honoured), skipped for good reasons (no e-mail address, no
   IO profile, the person disabled the service on IO), or failed after the last attempt.
   A row already sent is never sent again; a worker that dies while sending leaves a lease
   that expires, and the message is sent again only if its outcome was never recorded (the
   e-mail carries the same Message-ID each time, so a mail client shows it once).
4. **The worker** (`queue`): Huey runs the deliveries with its retries; a loop relays
   new events every second and sweeps rows whose task was lost. The embedded default runs
   it in a thread of the web process; `flask --app voucher notify-worker` runs it apart.

Messages name the date, the provider and the amounts, never the service or anything about
health; the subject is generic. Italian, or English when the person chose it.
"""
