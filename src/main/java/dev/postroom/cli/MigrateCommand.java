package dev.postroom.cli;

import com.zaxxer.hikari.HikariDataSource;
import dev.postroom.config.DatabaseConfig;
import dev.postroom.outbox.Schema;
import java.util.concurrent.Callable;
import org.flywaydb.core.api.output.MigrateResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
    name = "migrate",
    mixinStandardHelpOptions = true,
    description = {
      "Create or upgrade Postroom's schema (mail.*) in the database.",
      "Safe to run repeatedly, and from several hosts at once."
    })
final class MigrateCommand implements Callable<Integer> {
  private final CliContext ctx;
  @Mixin GlobalOptions global;

  MigrateCommand(CliContext ctx) {
    this.ctx = ctx;
    this.global = new GlobalOptions(ctx);
  }

  @Override
  public Integer call() {
    ctx.logging();
    DatabaseConfig db = ctx.database();
    try (HikariDataSource pool = db.pool("postroom-migrate", 2)) {
      MigrateResult result = Schema.migrate(pool);
      String version =
          result.targetSchemaVersion != null
              ? result.targetSchemaVersion
              : result.initialSchemaVersion == null ? "none" : result.initialSchemaVersion;
      ctx.out.printf(
          "%s: schema at version %s (%d migration%s applied)%n",
          db.describe(),
          version,
          result.migrationsExecuted,
          result.migrationsExecuted == 1 ? "" : "s");
    }
    return Main.OK;
  }
}
