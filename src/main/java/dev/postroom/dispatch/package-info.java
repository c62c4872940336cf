/**
 * The dispatcher: claims due mail from the outbox in short transactions, delivers it through the
 * SMTP client over pooled connections per account, and records every recipient's outcome, the retry
 * time and the events back in the database. Any number of dispatchers may share one database;
 * leases with fencing tokens keep a mail with one of them at a time.
 */
package dev.postroom.dispatch;
