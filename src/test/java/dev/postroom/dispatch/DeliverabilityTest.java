package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.dkim.DkimVerifier;
import dev.postroom.testing.ManualClock;
import dev.postroom.testing.TestDatabase;
import dev.postroom.unsubscribe.UnsubscribeServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * DKIM signing and one-click unsubscribe end to end: mail through the dispatcher to an SMTP server,
 * its signature checked by dkimpy against the published dns_record, the List-Unsubscribe link
 * followed over HTTP to the endpoint postroom run serves.
 */
class DeliverabilityTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static UnsubscribeServer endpoint;
  private static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private final MailFixture mail = new MailFixture(db);
  private RecordingSmtpServer smtp;
  private ManualClock clock;
  private Map<String, String> records;

  @BeforeAll
  static void serve() throws Exception {
    endpoint =
        UnsubscribeServer.start(
            new java.net.InetSocketAddress("127.0.0.1", 0),
            dev.postroom.outbox.OutboxJdbi.create(db.dataSource()));
  }

  @AfterAll
  static void stop() {
    endpoint.close();
  }

  @BeforeEach
  void setUp() throws Exception {
    mail.reset();
    mail.jdbi.useHandle(h -> h.execute("DELETE FROM mail.dkim_key"));
    smtp = RecordingSmtpServer.start();
    mail.relay("main", "relay", smtp.port(), 1);
    mail.configure("unsubscribe_url", "http://127.0.0.1:" + endpoint.port() + "/unsubscribe/");
    clock = new ManualClock(Instant.now().plusSeconds(1));
    KeyPairGenerator gen = KeyPairGenerator.getInstance("Ed25519");
    String pem =
        "-----BEGIN PRIVATE KEY-----\n"
            + Base64.getMimeEncoder()
                .encodeToString(gen.generateKeyPair().getPrivate().getEncoded())
            + "\n-----END PRIVATE KEY-----\n";
    mail.jdbi.useHandle(h ->
        h.createQuery(
                "SELECT mail.add_dkim_key('postroom.test', 'mail2026', :pem, 'ed25519-sha256')")
            .bind("pem", pem)
            .mapTo(Integer.class)
            .one());
    records =
        mail.jdbi.withHandle(h ->
            h
                .createQuery("SELECT dns_name, dns_record FROM mail.dkim_keys")
                .map((rs, ctx) -> Map.entry(rs.getString(1), rs.getString(2)))
                .list()
                .stream()
                .collect(
                    java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
  }

  @AfterEach
  void tearDown() throws Exception {
    smtp.close();
  }

  private void drain() throws InterruptedException {
    clock.catchUp(Duration.ofSeconds(1));
    try (Dispatcher d = mail.dispatcher("d", clock)) {
      d.runUntilIdle();
    }
  }

  private long sendList(String to) {
    return mail.jdbi.withHandle(h ->
        h.createQuery(
                "SELECT mail.send(recipients => :r, subject => 'News', body => 'Hello',"
                    + " list_unsubscribe => true)")
            .bind("r", to)
            .mapTo(Long.class)
            .one());
  }

  private RecordingSmtpServer.Received receivedBy(String address) {
    List<RecordingSmtpServer.Received> got =
        smtp.received().stream().filter(r -> r.recipients().contains(address)).toList();
    assertThat(got).hasSize(1);
    return got.get(0);
  }

  private static String unsubscribeUrl(String data) {
    Matcher m = Pattern.compile("List-Unsubscribe: <(http://[^>]+)>").matcher(data);
    assertThat(m.find()).as("List-Unsubscribe header in\n" + data).isTrue();
    return m.group(1);
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(String url, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private long count(String sql) {
    return mail.jdbi.withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
  }

  @Test
  void listMailCarriesSignedOneClickHeadersOnTheWire() throws Exception {
    sendList("ann@example.com");
    drain();

    String data = receivedBy("ann@example.com").data();
    assertThat(data).contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    assertThat(unsubscribeUrl(data))
        .startsWith("http://127.0.0.1:" + endpoint.port() + "/unsubscribe/");
    assertThat(data)
        .startsWith(
            "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=postroom.test; s=mail2026;");
    assertThat(data).contains("list-unsubscribe:list-unsubscribe-post;");
    DkimVerifier.Result verified =
        DkimVerifier.verify(data.getBytes(StandardCharsets.UTF_8), records);
    assertThat(verified.passed()).as(verified.output()).isTrue();
  }

  @Test
  void transactionalMailHasNoUnsubscribeHeadersButIsSigned() throws Exception {
    mail.send("bob@example.com", "Your receipt");
    drain();

    String data = receivedBy("bob@example.com").data();
    assertThat(data).doesNotContain("List-Unsubscribe");
    assertThat(DkimVerifier.verify(data.getBytes(StandardCharsets.UTF_8), records).passed())
        .isTrue();
  }

  @Test
  void aLargeStreamedMessageIsSignedAndVerifies() throws Exception {
    byte[] big = new byte[3 * 1024 * 1024];
    new Random(3).nextBytes(big);
    mail.jdbi.useHandle(h -> {
      long id =
          h.createQuery(
                  "SELECT mail.send(recipients => 'big@example.com', subject => 'Big', body => 'see attached')")
              .mapTo(Long.class)
              .one();
      h.createQuery("SELECT mail.attach(:id, 'big.bin', 'application/octet-stream', :c)")
          .bind("id", id)
          .bind("c", big)
          .mapTo(Long.class)
          .one();
    });
    drain();

    String data = receivedBy("big@example.com").data();
    assertThat(data.length()).isGreaterThan(4_000_000);
    DkimVerifier.Result verified =
        DkimVerifier.verify(data.getBytes(StandardCharsets.UTF_8), records);
    assertThat(verified.passed()).as(verified.output()).isTrue();
  }

  @Test
  void aGetShowsAConfirmPageAndChangesNothing() throws Exception {
    sendList("ann@example.com");
    drain();
    String url = unsubscribeUrl(receivedBy("ann@example.com").data());

    HttpResponse<String> page = get(url);

    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body())
        .contains("<form method=\"post\"")
        .contains("name=\"List-Unsubscribe\" value=\"One-Click\"");
    assertThat(count("SELECT count(*) FROM mail.suppression")).isZero();
    assertThat(count("SELECT count(*) FROM mail.event_log WHERE event = 'unsubscribed'")).isZero();
  }

  @Test
  void aOneClickPostSuppressesOnceAndLaterListMailOnly() throws Exception {
    long first = sendList("Ann@Example.com");
    drain();
    String url = unsubscribeUrl(receivedBy("Ann@Example.com").data());

    HttpResponse<String> done = post(url, "List-Unsubscribe=One-Click");
    HttpResponse<String> again = post(url, "List-Unsubscribe=One-Click");

    assertThat(done.statusCode()).isEqualTo(200);
    assertThat(again.statusCode()).as("a second POST is idempotent").isEqualTo(200);
    List<String> rows =
        mail.jdbi.withHandle(h ->
            h.createQuery(
                    "SELECT s.address || ' ' || s.kind || ' ' || p.name || ' ' || s.mail_id"
                        + " FROM mail.suppression s JOIN mail.profile p ON p.id = s.profile_id")
                .mapTo(String.class)
                .list());
    assertThat(rows).containsExactly("ann@example.com unsubscribe main " + first);
    assertThat(
            count(
                "SELECT count(*) FROM mail.event_log WHERE event = 'unsubscribed' AND mail_id = "
                    + first))
        .isEqualTo(1);

    int before = smtp.received().size();
    long list = sendList("ann@example.com");
    long transactional = mail.send("ann@example.com", "Password reset");
    drain();

    assertThat(mail.recipients(list))
        .extracting(MailFixture.Rcpt::status)
        .containsExactly("suppressed");
    assertThat(mail.recipients(transactional))
        .extracting(MailFixture.Rcpt::status)
        .containsExactly("delivered");
    assertThat(smtp.received()).hasSize(before + 1);
    assertThat(smtp.received().get(before).data()).contains("Subject: Password reset");
  }

  @Test
  void queuedListMailToAnAddressThatUnsubscribesIsNotSent() throws Exception {
    sendList("cat@example.com");
    drain();
    String url = unsubscribeUrl(receivedBy("cat@example.com").data());
    long waiting =
        mail.jdbi.withHandle(h ->
            h.createQuery(
                    "SELECT mail.send(recipients => 'cat@example.com', subject => 'Later', body => 'x',"
                        + " list_unsubscribe => true, send_at => now() + interval '1 hour')")
                .mapTo(Long.class)
                .one());

    assertThat(post(url, "List-Unsubscribe=One-Click").statusCode()).isEqualTo(200);

    assertThat(mail.recipients(waiting))
        .extracting(MailFixture.Rcpt::status)
        .containsExactly("suppressed");
    assertThat(mail.mail(waiting).status()).isEqualTo("failed");
  }

  @Test
  void forgedOrAlteredTokensAreNotFoundAndChangeNothing() throws Exception {
    sendList("dan@example.com");
    drain();
    String url = unsubscribeUrl(receivedBy("dan@example.com").data());
    int cut = url.length() - 5;
    char c = url.charAt(cut);
    String altered = url.substring(0, cut) + (c == 'A' ? 'B' : 'A') + url.substring(cut + 1);
    String base = "http://127.0.0.1:" + endpoint.port() + "/unsubscribe/";
    String forged =
        base
            + Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(
                    ("\u0001\0\0\0\1\0\0\0\0\0\0\0\1dan@example.com" + "x".repeat(32))
                        .getBytes(StandardCharsets.ISO_8859_1));

    for (String bad : List.of(altered, forged, base + "not-a-token", base + "%00", url + "x")) {
      assertThat(post(bad, "List-Unsubscribe=One-Click").statusCode()).as(bad).isEqualTo(404);
      assertThat(get(bad).statusCode()).as(bad).isEqualTo(404);
    }
    assertThat(post(url, "something=else").statusCode()).as("no one-click body").isEqualTo(400);
    HttpResponse<String> put =
        http.send(
            HttpRequest.newBuilder(URI.create(url))
                .PUT(HttpRequest.BodyPublishers.ofString("List-Unsubscribe=One-Click"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).isEqualTo(405);
    assertThat(put.headers().firstValue("Allow")).contains("GET, POST");
    assertThat(post(url, "List-Unsubscribe=One-Click&pad=" + "x".repeat(20_000)).statusCode())
        .isEqualTo(413);
    assertThat(get("http://127.0.0.1:" + endpoint.port() + "/elsewhere").statusCode())
        .isEqualTo(404);
    assertThat(count("SELECT count(*) FROM mail.suppression")).isZero();
    assertThat(count("SELECT count(*) FROM mail.event_log WHERE event = 'unsubscribed'")).isZero();
    assertThat(put.body()).doesNotContain("Exception").doesNotContain("at dev.");
  }

  @Test
  void aDeliveryStatusNotificationIsSigned() throws Exception {
    mail.configure("notify_sender_on_failure", "true");
    smtp.rcptRule(a -> a.startsWith("bad") ? "550 5.1.1 <" + a + ">: user unknown" : null);
    mail.send("bad@example.com", "Quarterly report");
    drain();
    drain();

    RecordingSmtpServer.Received dsn = receivedBy("app@postroom.test");
    assertThat(dsn.from()).isEmpty();
    assertThat(dsn.data()).contains("multipart/report");
    DkimVerifier.Result verified =
        DkimVerifier.verify(dsn.data().getBytes(StandardCharsets.UTF_8), records);
    assertThat(verified.passed()).as(verified.output()).isTrue();
  }
}
