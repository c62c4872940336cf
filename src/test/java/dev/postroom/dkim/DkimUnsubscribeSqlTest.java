package dev.postroom.dkim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.testing.TestDatabase;
import java.security.KeyPairGenerator;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The SQL side: mail.add_dkim_key's refusals, who may read keys, list mail validation. */
class DkimUnsubscribeSqlTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static Jdbi jdbi;

  @BeforeAll
  static void setUp() {
    jdbi = db.jdbi();
    jdbi.useHandle(h -> {
      h.execute(
          "SELECT mail.add_account(name => 'relay', host => '127.0.0.1', port => 2525, tls => 'none',"
              + " from_address => 'app@example.com')");
      h.execute("SELECT mail.add_profile('main', is_default => true)");
      h.execute("SELECT mail.add_profile_account('main', 'relay', 1)");
    });
  }

  private static <T> T one(String sql, Class<T> type) {
    return jdbi.withHandle(h -> h.createQuery(sql).mapTo(type).one());
  }

  private static String state(Runnable r) {
    try {
      r.run();
      return "ok";
    } catch (UnableToExecuteStatementException e) {
      return ((SQLException) e.getCause()).getSQLState() + " " + e.getCause().getMessage();
    }
  }

  private static String addKey(String domain, String selector, String pem, String algorithm) {
    return state(() ->
        jdbi.useHandle(h ->
            h.createQuery("SELECT mail.add_dkim_key(:d, :s, :p, :a)")
                .bind("d", domain)
                .bind("s", selector)
                .bind("p", pem)
                .bind("a", algorithm)
                .mapTo(Integer.class)
                .one()));
  }

  @Test
  void weakUnreadableAndMismatchedKeysAreRefusedWithoutQuotingThem() throws Exception {
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(512);
    String weak = DkimSigningTest.pem(rsa.generateKeyPair().getPrivate().getEncoded());
    String ed = DkimSigningTest.newPem("Ed25519", 0);
    String garbled = ed.replace(ed.substring(40, 50), "!!!!!!!!!!");

    assertThat(addKey("example.com", "weak", weak, "rsa-sha256"))
        .startsWith("MA025")
        .contains("512 bits");
    assertThat(addKey("example.com", "ed", ed, "rsa-sha256"))
        .startsWith("MA025")
        .contains("Ed25519");
    assertThat(addKey("example.com", "bad", garbled, "ed25519-sha256")).startsWith("MA025");
    assertThat(
            addKey(
                "example.com",
                "pub",
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
                "rsa-sha256"))
        .startsWith("MA025");
    assertThat(addKey("not a domain", "s", ed, "ed25519-sha256")).startsWith("MA025");
    assertThat(addKey("example.com", "s", ed, "rsa-sha1")).startsWith("MA025").contains("rsa-sha1");
    for (String message :
        new String[] {
          addKey("example.com", "weak", weak, "rsa-sha256"),
          addKey("example.com", "bad", garbled, "ed25519-sha256")
        }) {
      for (String line : weak.lines().toList().subList(1, 4)) {
        assertThat(message).doesNotContain(line.substring(0, 20));
      }
      assertThat(message).doesNotContain(ed.lines().toList().get(1).substring(0, 20));
    }
    assertThat(addKey("example.com", "ok", ed, "ed25519-sha256")).isEqualTo("ok");
    assertThat(addKey("EXAMPLE.com", "OK", ed, "ed25519-sha256"))
        .startsWith("MA025")
        .contains("exists");
    assertThat(one("SELECT count(*) FROM mail.dkim_key", Integer.class)).isEqualTo(1);
    assertThat(one("SELECT mail.drop_dkim_key('example.com', 'ok')", Boolean.class)).isTrue();
  }

  @Test
  void onlyAdminAndDispatcherReadKeysAndTheSecret() throws Exception {
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      for (String table :
          new String[] {"mail.dkim_key", "mail.unsubscribe_secret", "mail.dkim_keys"}) {
        st.execute("SET ROLE mail_sender");
        assertThatThrownBy(() -> st.executeQuery("SELECT * FROM " + table).close())
            .isInstanceOf(SQLException.class)
            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
        st.execute("RESET ROLE");
        for (String role : new String[] {"mail_dispatcher", "mail_admin"}) {
          st.execute("SET ROLE " + role);
          st.executeQuery("SELECT * FROM " + table).close();
          st.execute("RESET ROLE");
        }
      }
      st.execute("SET ROLE mail_sender");
      assertThatThrownBy(
              () -> st.executeQuery("SELECT mail.add_dkim_key('a.example', 's', 'x')").close())
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
      st.execute("RESET ROLE");
    }
  }

  @Test
  void listMailNeedsOneRecipientAndAnUnsubscribeUrl() {
    String send =
        "SELECT mail.send(recipients => :r, subject => 'x', body => 'y', list_unsubscribe => true)";
    assertThat(
            state(() ->
                jdbi.useHandle(
                    h -> h.createQuery(send).bind("r", "a@example.org").mapTo(Long.class).one())))
        .startsWith("MA023");
    jdbi.useHandle(h ->
        h.execute(
            "SELECT mail.configure('unsubscribe_url', 'https://mail.example.com/unsubscribe/')"));
    try {
      assertThat(one("SELECT mail.setting('unsubscribe_url')", String.class))
          .isEqualTo("https://mail.example.com/unsubscribe");
      assertThat(
              state(() ->
                  jdbi.useHandle(
                      h -> h.execute("SELECT mail.configure('unsubscribe_url', 'ftp://x y')"))))
          .startsWith("MA013");
      assertThat(
              state(() ->
                  jdbi.useHandle(h ->
                      h.createQuery(send)
                          .bind("r", "a@example.org; b@example.org")
                          .mapTo(Long.class)
                          .one())))
          .startsWith("MA022")
          .contains("not 2");
      assertThat(
              state(() ->
                  jdbi.useHandle(h ->
                      h.execute(
                          "INSERT INTO mail.outbox (recipients, copy_recipients, subject, list_unsubscribe)"
                              + " VALUES ('a@example.org', 'c@example.org', 's', true)"))))
          .as("the insert path checks too")
          .startsWith("MA022");
      assertThat(
              state(() ->
                  jdbi.useHandle(h ->
                      h.createQuery(send)
                          .bind("r", "A@example.org, a@EXAMPLE.org")
                          .mapTo(Long.class)
                          .one())))
          .isEqualTo("ok");
    } finally {
      jdbi.useHandle(h -> h.execute("SELECT mail.configure('unsubscribe_url', NULL)"));
    }
  }

  @Test
  void suppressionRowsHaveAKind() {
    jdbi.useHandle(h -> h.execute("SELECT mail.suppress('Manual@Example.org', 'asked by phone')"));
    assertThat(
            one(
                "SELECT kind || ' ' || coalesce(profile_id::text, 'all') FROM mail.suppressed_addresses"
                    + " WHERE address = 'manual@example.org'",
                String.class))
        .isEqualTo("manual all");
  }
}
