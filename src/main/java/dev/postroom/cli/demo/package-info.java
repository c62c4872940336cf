/**
 * The {@code postroom demo} command's pieces: a small capture SMTP server that accepts mail on
 * loopback and keeps it (refusing and deferring chosen recipients), and the scenario that
 * configures a demo database, enqueues sample mails, dispatches them and reports the outcome.
 */
package dev.postroom.cli.demo;
