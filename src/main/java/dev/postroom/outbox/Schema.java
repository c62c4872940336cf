package dev.postroom.outbox;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Applies Postroom's schema: the versioned migrations (tables, types, indexes) and the repeatable
 * ones (functions, views, roles, grants), both bundled in the jar. Safe to run repeatedly and from
 * several hosts at once: Flyway serialises concurrent runs with an advisory lock.
 */
public final class Schema {
  private Schema() {}

  public static MigrateResult migrate(DataSource dataSource) {
    return flyway(dataSource).migrate();
  }

  static Flyway flyway(DataSource dataSource) {
    return Flyway.configure()
        .dataSource(dataSource)
        .locations("classpath:postroom/migrations", "classpath:postroom/sql")
        .schemas("mail")
        .table("schema_history")
        .createSchemas(true)
        // Versions are appended by several lines of work; a database migrated in between must
        // still take a lower version that lands later.
        .outOfOrder(true)
        .load();
  }
}
