/**
 * Finds where mail for a domain goes when Postroom delivers directly: the domain's MX hosts in RFC
 * 5321 §5.1 order, each with all its IPv4 and IPv6 addresses, or a value saying why there is no
 * route (null MX, NXDOMAIN, no resolvable host, temporary DNS failure). Owns IDNA conversion of
 * recipient domains; knows nothing of SMTP, the outbox or the database.
 */
package dev.postroom.mx;
