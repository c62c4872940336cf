package dev.postroom.bench;

import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;

/** Database-wide write counters: rows inserted, updated and deleted, and the WAL position. */
record Stats(long tuples, long wal) {
  static Stats read(DataSource ds) {
    return Jdbi.create(ds)
        .withHandle(h ->
            h.createQuery(
                    "SELECT tup_inserted + tup_updated + tup_deleted AS tuples,"
                        + " pg_current_wal_lsn() - '0/0'::pg_lsn AS wal"
                        + " FROM pg_stat_database WHERE datname = current_database()")
                .map((rs, ctx) -> new Stats(rs.getLong("tuples"), rs.getLong("wal")))
                .one());
  }
}
