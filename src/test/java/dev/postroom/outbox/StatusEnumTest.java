package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.testing.TestDatabase;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Java status enums mirror the PostgreSQL enums exactly, in order. */
class StatusEnumTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private List<String> labels(String type) {
    return db.jdbi()
        .withHandle(h ->
            h.createQuery(
                    "SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = :t::regtype"
                        + " ORDER BY e.enumsortorder")
                .bind("t", type)
                .mapTo(String.class)
                .list());
  }

  @Test
  void mailStatusHasTheValuesOfMailMailStatus() {
    assertThat(Arrays.stream(MailStatus.values()).map(MailStatus::sql))
        .containsExactlyElementsOf(labels("mail.mail_status"));
  }

  @Test
  void recipientStatusHasTheValuesOfMailRecipientStatus() {
    assertThat(Arrays.stream(RecipientStatus.values()).map(RecipientStatus::sql))
        .containsExactlyElementsOf(labels("mail.recipient_status"));
  }
}
