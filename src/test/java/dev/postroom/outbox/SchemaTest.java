package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.testing.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class SchemaTest {
  @RegisterExtension static final TestDatabase db = TestDatabase.empty();

  @Test
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
}
