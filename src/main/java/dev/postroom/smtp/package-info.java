/**
 * Postroom's own SMTP client (RFC 5321 with ESMTP, STARTTLS, implicit TLS and AUTH). It turns one
 * envelope and message into a result for every recipient, keeps per-reply deadlines, and never
 * depends on the database or any other Postroom package. {@link dev.postroom.smtp.SmtpConnection}
 * is one session; {@link dev.postroom.smtp.SmtpPool} reuses sessions to one endpoint.
 */
package dev.postroom.smtp;
