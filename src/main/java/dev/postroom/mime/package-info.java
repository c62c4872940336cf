/**
 * Turns a mail into the bytes of an RFC 5322 / MIME message: headers, bodies, attachments and
 * inline images, and RFC 3464 delivery status notifications. It knows nothing of the database or of
 * SMTP; its output is CRLF-only, 7-bit and within the 998-octet line limit, ready for DATA (the
 * SMTP client still dot-stuffs it). Encoding work is done by Jakarta Mail (Eclipse Angus Mail).
 */
package dev.postroom.mime;
