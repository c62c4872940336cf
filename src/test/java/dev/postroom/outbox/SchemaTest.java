package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.testing.TestDatabase;
import java.util.concurrent.CompletableFuture;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SchemaTest {
  @RegisterExtension static final TestDatabase db = TestDatabase.empty();
  @RegisterExtension static final TestDatabase other = TestDatabase.empty();

  @Test
  @Order(2)
  void migratingTwiceAppliesNothingTheSecondTime() {
    Schema.migrate(db.dataSource());
    assertThat(Schema.migrate(db.dataSource()).migrationsExecuted).isZero();
    int schemas =
        db.jdbi()
            .withHandle(h ->
                h.createQuery("SELECT count(*) FROM pg_namespace WHERE nspname = 'mail'")
                    .mapTo(Integer.class)
                    .one());
    assertThat(schemas).isEqualTo(1);
  }

  @Test
  @Order(1)
  void twoDatabasesMigratedAtTheSameTimeBothSucceed() throws Exception {
    CompletableFuture<MigrateResult> first =
        CompletableFuture.supplyAsync(() -> Schema.migrate(db.dataSource()));
    CompletableFuture<MigrateResult> second =
        CompletableFuture.supplyAsync(() -> Schema.migrate(other.dataSource()));
    assertThat(first.get().success).isTrue();
    assertThat(second.get().success).isTrue();
    for (TestDatabase d : new TestDatabase[] {db, other}) {
      int roles =
          d.jdbi()
              .withHandle(h ->
                  h.createQuery(
                          "SELECT count(*) FROM pg_roles WHERE rolname IN"
                              + " ('mail_sender', 'mail_admin', 'mail_dispatcher')")
                      .mapTo(Integer.class)
                      .one());
      assertThat(roles).isEqualTo(3);
    }
  }
}
