/**
 * Postroom's outbox in PostgreSQL, seen from Java: {@link dev.postroom.outbox.Schema} applies the
 * migrations, and {@link dev.postroom.outbox.Outbox} enqueues an {@link
 * dev.postroom.outbox.OutgoingMail} through {@code mail.send} inside the caller's own transaction.
 * {@link dev.postroom.outbox.OutboxJdbi} makes Jdbi instances that never put bound values in
 * exception messages. The SQL API itself (schema {@code mail}) is documented in {@code
 * docs/sql-api.md}.
 */
package dev.postroom.outbox;
