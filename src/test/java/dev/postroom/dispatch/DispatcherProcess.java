package dev.postroom.dispatch;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.DriverManager;
import java.time.Clock;

/**
 * A dispatcher in a process of its own, for tests that kill it with SIGKILL. Arguments: JDBC URL,
 * dispatcher name, concurrency.
 */
public final class DispatcherProcess {
  private DispatcherProcess() {}

  public static void main(String[] args) throws Exception {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(args[0]);
    config.setMaximumPoolSize(8);
    try (HikariDataSource pool = new HikariDataSource(config);
        Dispatcher d =
            new Dispatcher(
                pool,
                () -> DriverManager.getConnection(args[0]),
                DispatcherConfig.defaults(args[1]).withConcurrency(Integer.parseInt(args[2])),
                new SimpleMeterRegistry(),
                Clock.systemUTC())) {
      d.start();
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
