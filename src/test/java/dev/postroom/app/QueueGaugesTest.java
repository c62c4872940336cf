package dev.postroom.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.testing.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class QueueGaugesTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @Test
  void gaugesShowTheUnfinishedQueueByStatusAndTheAgeOfTheOldestDueMail() throws Exception {
    db.jdbi()
        .useHandle(h -> {
          h.execute("SELECT mail.add_account(name => 'a', host => '127.0.0.1', port => 2525)");
          h.execute("SELECT mail.add_profile(name => 'p', is_default => true)");
          h.execute("SELECT mail.add_profile_account('p', 'a', 1)");
          for (int i = 0; i < 3; i++) {
            h.execute("SELECT mail.send(recipients => 'ann@example.com', body => 'x')");
          }
          h.execute(
              "SELECT mail.send(recipients => 'ann@example.com', body => 'later',"
                  + " send_at => now() + interval '1 hour')");
          h.execute(
              "UPDATE mail.outbox SET next_attempt_at = now() - interval '90 seconds'"
                  + " WHERE id = (SELECT min(id) FROM mail.outbox)");
        });
    SimpleMeterRegistry registry = new SimpleMeterRegistry();

    try (QueueGauges gauges = new QueueGauges(db.dataSource(), registry, Duration.ofHours(1))) {
      QueueGauges.QueueSnapshot snapshot = gauges.refresh();

      assertThat(snapshot.queued()).isEqualTo(4);
      assertThat(snapshot.due()).isEqualTo(3);
      // the background refresh may run just before or after this one: same counts, its own age
      assertThat(gauges.latest())
          .extracting(
              QueueGauges.QueueSnapshot::queued,
              QueueGauges.QueueSnapshot::retrying,
              QueueGauges.QueueSnapshot::sending,
              QueueGauges.QueueSnapshot::due)
          .containsExactly(4L, 0L, 0L, 3L);
      assertThat(registry.get("postroom.queue.depth").tag("status", "queued").gauge().value())
          .isEqualTo(4.0);
      assertThat(registry.get("postroom.queue.depth").tag("status", "retrying").gauge().value())
          .isZero();
      assertThat(registry.get("postroom.queue.due").gauge().value()).isEqualTo(3.0);
      assertThat(registry.get("postroom.queue.oldest.due.age").timeGauge().value(TimeUnit.SECONDS))
          .isBetween(89.0, 150.0);
    }
  }
}
