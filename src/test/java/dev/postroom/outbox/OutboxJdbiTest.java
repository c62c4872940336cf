package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.postroom.testing.TestDatabase;
import java.sql.SQLException;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class OutboxJdbiTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static final String PRIVATE = "ceo.private@example.com";

  @BeforeAll
  static void profile() throws SQLException {
    Sql.createDefaultProfile(db.dataSource());
  }

  @Test
  void aFailedStatementsMessageCarriesNoBoundValues() {
    Throwable plain = sendBadList(Jdbi.create(db.dataSource()));
    assertThat(plain.getMessage()).as("Jdbi's default rendering shows arguments").contains(PRIVATE);

    Throwable quiet = sendBadList(OutboxJdbi.create(db.dataSource()));
    assertThat(quiet.getMessage()).contains("invalid address in recipients: broken@");
    for (Throwable t = quiet; t != null; t = t.getCause()) {
      assertThat(String.valueOf(t.getMessage())).doesNotContain(PRIVATE);
    }
  }

  private static Throwable sendBadList(Jdbi jdbi) {
    return catchThrowable(() ->
        jdbi.withHandle(h ->
            h.createQuery("SELECT mail.send(:recipients)")
                .bind("recipients", PRIVATE + ", broken@")
                .mapTo(Long.class)
                .one()));
  }
}
