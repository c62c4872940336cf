/**
 * The dispatcher: claims due mail from the outbox in short transactions, delivers it through the
 * SMTP client over pooled connections per account, and records every recipient's outcome, the retry
 * time and the events back in the database. Any number of dispatchers may share one database;
 * leases with fencing tokens keep a mail with one of them at a time.
 *
 * <p>Each step returns a value: a transport ({@link dev.postroom.dispatch.RelayTransport}, {@link
 * dev.postroom.dispatch.MxTransport}) returns a {@link dev.postroom.dispatch.Delivery}, the pure
 * {@link dev.postroom.dispatch.Ledger} applies deliveries and decides the mail's end, and only
 * {@link dev.postroom.dispatch.RecordWriter} writes. {@link dev.postroom.dispatch.AccountSmtp} is
 * the one place an account becomes SMTP settings and pools.
 */
package dev.postroom.dispatch;
