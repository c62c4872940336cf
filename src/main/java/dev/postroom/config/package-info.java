/**
 * Settings that come from outside the program: the PostgreSQL connection, resolved from the command
 * line, {@code POSTROOM_DB_URL} or libpq's {@code PG*} variables. This is the only package that
 * reads environment variables or system properties; everything else receives values.
 */
package dev.postroom.config;
