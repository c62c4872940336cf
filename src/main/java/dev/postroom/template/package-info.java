/**
 * Renders Mustache templates (mail.template, copied onto a mail at enqueue) with mustache.java: the
 * subject and text bodies unescaped, {@code {{var}}} HTML-escaped in HTML bodies. Template data is
 * the jsonb text PostgreSQL prints, read into maps and lists that print back as that same text. The
 * PL/pgSQL preview (sql/R__7b_templates.sql) follows this engine; a corpus test holds both to it.
 */
package dev.postroom.template;
