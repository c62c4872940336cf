/**
 * Wiring for a running Postroom process: the dispatcher with its pool and LISTEN connections, the
 * Prometheus {@code /metrics} and {@code /health} endpoint, gauges computed from the queue in SQL,
 * and the Logback set-up behind {@code --log-format}. The command line calls into this package;
 * nothing here parses arguments or reads the environment.
 */
package dev.postroom.app;
