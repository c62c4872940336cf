package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class IdempotencyTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static final int SESSIONS = 8;

  @BeforeAll
  static void profile() throws SQLException {
    Sql.createDefaultProfile(db.dataSource());
  }

  @Test
  void eightConcurrentCallersWithOneKeyGetOneMail() throws Exception {
    for (int round = 0; round < 5; round++) {
      String key = "order-" + round;
      CyclicBarrier start = new CyclicBarrier(SESSIONS);
      ExecutorService pool = Executors.newFixedThreadPool(SESSIONS);
      try {
        List<Future<Long>> results = new ArrayList<>();
        for (int i = 0; i < SESSIONS; i++) {
          results.add(pool.submit(() -> sendInOwnTransaction(key, start)));
        }
        Set<Long> ids = new HashSet<>();
        for (Future<Long> f : results) {
          ids.add(f.get());
        }
        assertThat(ids).hasSize(1);
        assertThat(
                Sql.one(
                    db.dataSource(),
                    "SELECT count(*) FROM mail.outbox WHERE idempotency_key = ?",
                    key))
            .isEqualTo(1L);
        assertThat(
                Sql.one(
                    db.dataSource(),
                    "SELECT count(*) FROM mail.recipient WHERE mail_id = ?",
                    ids.iterator().next()))
            .isEqualTo(1L);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /** All callers start together, so the losers meet the winner's uncommitted row and wait on it. */
  private static long sendInOwnTransaction(String key, CyclicBarrier start) throws Exception {
    try (Connection c = db.connect()) {
      c.setAutoCommit(false);
      start.await();
      long id;
      try (PreparedStatement st =
          c.prepareStatement(
              "SELECT mail.send('buyer@example.com', 'Your order', idempotency_key => ?)")) {
        st.setString(1, key);
        try (ResultSet rs = st.executeQuery()) {
          rs.next();
          id = rs.getLong(1);
        }
      }
      c.commit();
      return id;
    }
  }
}
