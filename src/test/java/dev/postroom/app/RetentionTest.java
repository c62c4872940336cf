package dev.postroom.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.testing.TestDatabase;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RetentionTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @Test
  void oldFinishedMailsAndEventsArePurgedOnceAnHourWhateverTheNumberOfDispatchers()
      throws Exception {
    db.jdbi()
        .useHandle(h -> {
          h.execute("SELECT mail.add_account(name => 'a', host => '127.0.0.1', port => 2525)");
          h.execute("SELECT mail.add_profile(name => 'p', is_default => true)");
          h.execute("SELECT mail.add_profile_account('p', 'a', 1)");
          for (String subject : List.of("old sent", "old queued", "new sent")) {
            h.execute("SELECT mail.send(recipients => 'ann@example.com', subject => ?)", subject);
          }
          h.execute(
              "UPDATE mail.outbox SET status = 'sent' WHERE subject IN ('old sent', 'new sent')");
          h.execute(
              "UPDATE mail.outbox SET created_at = now() - interval '40 days'"
                  + " WHERE subject LIKE 'old%'");
          h.execute(
              "INSERT INTO mail.event_log (event, logged_at) VALUES"
                  + " ('old', now() - interval '31 days'), ('new', now())");
        });

    Retention first = new Retention(db.dataSource(), "d1");
    Retention second = new Retention(db.dataSource(), "d2");

    assertThat(first.runOnce()).hasValueSatisfying(p -> assertThat(p.mails()).isEqualTo(1));
    assertThat(second.runOnce()).isEmpty();
    assertThat(strings("SELECT subject FROM mail.outbox ORDER BY id"))
        .containsExactly("old queued", "new sent");
    assertThat(strings("SELECT event FROM mail.event_log WHERE event <> 'queued' ORDER BY id"))
        .containsExactly("new", Retention.EVENT);
  }

  private static List<String> strings(String sql) {
    return db.jdbi().withHandle(h -> h.select(sql).mapTo(String.class).list());
  }
}
