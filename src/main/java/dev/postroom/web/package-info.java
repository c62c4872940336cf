/**
 * {@code postroom web}: a status page for people. A visitor logs in with a PostgreSQL role and
 * password; the page then opens one connection per session with those credentials and runs every
 * query as that role, so row security decides what it shows (a {@code mail_sender} sees its own
 * mail, {@code mail_admin} all of it). Retry and cancel call {@code mail.retry} / {@code
 * mail.cancel}. Pages are Mustache templates (HTML-escaped) served by the JDK's HTTP server.
 */
package dev.postroom.web;
