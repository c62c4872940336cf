package dev.postroom.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.config.DatabaseConfig;
import dev.postroom.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class DemoSetupTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @Test
  void aMissingDemoDatabaseIsCreatedThroughTheMaintenanceDatabaseAndThenReused() throws Exception {
    String name =
        ("postroom_t_demo_" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 20)))
            .toLowerCase(Locale.ROOT);
    DatabaseConfig demo = DatabaseConfig.resolve(db.url(), Cli.CLEAN).withDatabase(name);
    try {
      assertThat(DemoSetup.ensureDatabase(demo)).isTrue();
      assertThat(DemoSetup.ensureDatabase(demo)).isFalse();
    } finally {
      try (Connection c = DriverManager.getConnection(db.url());
          Statement st = c.createStatement()) {
        st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      }
    }
  }

  @Test
  void configuringTwicePointsTheOneDemoAccountAtTheNewPortAndCancelsLeftovers() throws Exception {
    try (Connection c = db.connect()) {
      DemoSetup.configure(c, "127.0.0.1", 2525);
      List<Long> first = DemoSetup.enqueue(c);
      DemoSetup.configure(c, "127.0.0.1", 2626);
      List<Long> second = DemoSetup.enqueue(c);

      assertThat(first).hasSize(5);
      assertThat(second).hasSize(5).doesNotContainAnyElementsOf(first);
    }
    assertThat(list("SELECT port FROM mail.account WHERE name = 'demo'", Integer.class))
        .containsExactly(2626);
    assertThat(
            list(
                "SELECT status::text || ':' || count(*) FROM mail.outbox"
                    + " GROUP BY status ORDER BY status",
                String.class))
        .containsExactly("queued:5", "cancelled:5");
    assertThat(list("SELECT count(*) FROM mail.attachment", Integer.class)).containsExactly(2);
  }

  private static <T> List<T> list(String sql, Class<T> type) {
    return db.jdbi().withHandle(h -> h.select(sql).mapTo(type).list());
  }
}
