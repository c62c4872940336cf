package dev.postroom.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.postroom.testing.ManualClock;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The status page over HTTP against a cluster that checks SCRAM passwords: logins, what each role
 * sees, CSRF, logout and the session timeout.
 */
class StatusPageTest {
  static final Duration TIMEOUT = Duration.ofMinutes(30);
  static StatusFixture fixture;
  static ManualClock clock;
  static WebServer server;

  @BeforeAll
  static void start() throws Exception {
    Assumptions.assumeTrue(
        ScramCluster.unavailable().isEmpty(), () -> ScramCluster.unavailable().orElse(""));
    fixture = StatusFixture.start();
    clock = new ManualClock();
    server = WebServer.start(fixture.webConfig(TIMEOUT), clock);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (fixture != null) {
      fixture.close();
    }
  }

  /** A browser-like client: one cookie, the last page's CSRF token. */
  static final class Visitor {
    final HttpClient http = HttpClient.newBuilder().build();
    String cookie;
    String csrf;

    HttpResponse<String> get(String path) throws Exception {
      HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).GET();
      return send(b);
    }

    HttpResponse<String> post(String path, String form) throws Exception {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(uri(path))
              .header("Content-Type", "application/x-www-form-urlencoded")
              .POST(HttpRequest.BodyPublishers.ofString(form));
      return send(b);
    }

    HttpResponse<String> logIn(String user, String password) throws Exception {
      get("/login");
      return post(
          "/login", "csrf=" + csrf + "&user=" + encode(user) + "&password=" + encode(password));
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
      if (cookie != null) {
        b.header("Cookie", cookie);
      }
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      r.headers().firstValue("Set-Cookie").ifPresent(c -> cookie = c.substring(0, c.indexOf(';')));
      Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(r.body());
      if (m.find()) {
        csrf = m.group(1);
      }
      return r;
    }
  }

  @Test
  void aWrongPasswordIsRefusedWithAnErrorAndNothingElse() throws Exception {
    Visitor v = new Visitor();
    int before = fixture.connectionsOf(StatusFixture.ALICE);

    HttpResponse<String> r = v.logIn(StatusFixture.ALICE, "not her password");

    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body())
        .contains("Login failed: wrong role name or password.")
        .doesNotContain("Invoice for nobody")
        .doesNotContain("Log out")
        .doesNotContain("not her password");
    assertThat(v.get("/").statusCode()).isEqualTo(303);
    assertThat(v.get("/mails").headers().firstValue("Location")).hasValue("/login");
    assertThat(fixture.connectionsOf(StatusFixture.ALICE)).isEqualTo(before);
  }

  @Test
  void anUnknownRoleGetsTheSameAnswerAsAWrongPassword() throws Exception {
    HttpResponse<String> r = new Visitor().logIn("mallory", "guess");

    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("Login failed: wrong role name or password.");
  }

  @Test
  void aRoleWithoutMailRightsIsToldSoAndNotLoggedIn() throws Exception {
    Visitor v = new Visitor();

    HttpResponse<String> r = v.logIn(StatusFixture.OUTSIDER, StatusFixture.OUTSIDER_PASSWORD);

    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("Role outsider may not read mail.outbox");
    assertThat(v.get("/").statusCode()).isEqualTo(303);
    await().untilAsserted(() -> assertThat(fixture.connectionsOf(StatusFixture.OUTSIDER)).isZero());
  }

  @Test
  void aSenderLogsInWithANewSessionCookieAndSeesOnlyItsOwnMailEscaped() throws Exception {
    Visitor v = new Visitor();
    v.get("/login");
    String anonymous = v.cookie;
    int before = fixture.connectionsOf(StatusFixture.ALICE);

    HttpResponse<String> login =
        v.post(
            "/login",
            "csrf=" + v.csrf + "&user=alice&password=" + encode(StatusFixture.ALICE_PASSWORD));

    assertThat(login.statusCode()).isEqualTo(303);
    assertThat(login.headers().firstValue("Location")).hasValue("/");
    assertThat(login.headers().firstValue("Set-Cookie").orElseThrow())
        .contains("HttpOnly")
        .contains("SameSite=Strict");
    assertThat(v.cookie).isNotEqualTo(anonymous);
    HttpResponse<String> mails = v.get("/mails");
    assertThat(mails.statusCode()).isEqualTo(200);
    assertThat(mails.headers().firstValue("Content-Security-Policy").orElseThrow())
        .contains("default-src 'none'");
    assertThat(mails.body())
        .contains("Welcome &lt;b&gt;Ann&lt;/b&gt; &amp; co")
        .doesNotContain("<b>Ann</b>")
        .contains("Invoice for nobody")
        .contains("Greylisted hello")
        .doesNotContain("private note");
    assertThat(v.get("/mails/" + fixture.bobMail).statusCode()).isEqualTo(404);
    assertThat(v.get("/accounts").statusCode()).isEqualTo(403);
    assertThat(fixture.connectionsOf(StatusFixture.ALICE)).isEqualTo(before + 1);
    v.post("/logout", "csrf=" + v.csrf);
  }

  @Test
  void searchFindsMailByAddressSubjectOrIdAndFiltersByStatus() throws Exception {
    Visitor v = new Visitor();
    v.logIn(StatusFixture.BOSS, StatusFixture.BOSS_PASSWORD);

    assertThat(v.get("/mails?q=nobody%40example").body())
        .contains("Invoice for nobody")
        .doesNotContain("Greylisted hello");
    assertThat(v.get("/mails?q=PRIVATE").body())
        .contains("Bob&#39;s private note")
        .doesNotContain("Invoice for nobody");
    assertThat(v.get("/mails?q=" + fixture.aliceDelivered).body())
        .contains("/mails/" + fixture.aliceDelivered + "\"")
        .doesNotContain("Invoice for nobody");
    assertThat(v.get("/mails?status=sent").body())
        .contains("Bob&#39;s private note")
        .doesNotContain("Greylisted hello");
    assertThat(v.get("/mails?q=%25").body()).contains("No mails match.");
    assertThat(v.get("/mails?status=bogus").statusCode()).isEqualTo(400);
  }

  @Test
  void anAdminSeesAccountsAndProfilesButNoPassword() throws Exception {
    Visitor v = new Visitor();
    v.logIn(StatusFixture.BOSS, StatusFixture.BOSS_PASSWORD);

    HttpResponse<String> r = v.get("/accounts");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body())
        .contains("capture")
        .contains("relay-user")
        .contains("smtp.example.com")
        .contains("main")
        .doesNotContain(StatusFixture.RELAY_PASSWORD);
    assertThat(v.get("/mails").body())
        .contains("Bob&#39;s private note")
        .contains("Invoice for nobody");
  }

  @Test
  void aPostWithoutTheSessionsCsrfTokenChangesNothing() throws Exception {
    Visitor v = new Visitor();
    v.logIn(StatusFixture.ALICE, StatusFixture.ALICE_PASSWORD);
    long mail = fixture.aliceDeferred;
    assertThat(fixture.status(mail)).isEqualTo("retrying");

    HttpResponse<String> forged = v.post("/mails/" + mail + "/cancel", "csrf=forged");
    HttpResponse<String> missing = v.post("/mails/" + mail + "/cancel", "");

    assertThat(forged.statusCode()).isEqualTo(403);
    assertThat(missing.statusCode()).isEqualTo(403);
    assertThat(fixture.status(mail)).isEqualTo("retrying");

    v.get("/mails/" + mail);
    HttpResponse<String> cancel = v.post("/mails/" + mail + "/cancel", "csrf=" + v.csrf);

    assertThat(cancel.statusCode()).isEqualTo(303);
    assertThat(fixture.status(mail)).isEqualTo("cancelled");
    HttpResponse<String> page = v.get("/mails/" + mail);
    assertThat(page.body()).contains("Mail " + mail + " is cancelled.").contains("id=\"retry\"");
    assertThat(page.body()).doesNotContain("id=\"cancel\"");
  }

  @Test
  void logoutEndsTheSessionAndClosesItsConnection() throws Exception {
    Visitor v = new Visitor();
    v.logIn(StatusFixture.BOB, StatusFixture.BOB_PASSWORD);
    assertThat(v.get("/").statusCode()).isEqualTo(200);
    String session = v.cookie;

    HttpResponse<String> out = v.post("/logout", "csrf=" + v.csrf);

    assertThat(out.statusCode()).isEqualTo(303);
    assertThat(out.headers().firstValue("Set-Cookie").orElseThrow()).contains("Max-Age=0");
    v.cookie = session;
    assertThat(v.get("/").headers().firstValue("Location")).hasValue("/login");
    await().untilAsserted(() -> assertThat(fixture.connectionsOf(StatusFixture.BOB)).isZero());
  }

  @Test
  void aSessionIdleForLongerThanTheTimeoutIsLoggedOut() throws Exception {
    Visitor v = new Visitor();
    v.logIn(StatusFixture.BOSS, StatusFixture.BOSS_PASSWORD);
    assertThat(v.get("/").statusCode()).isEqualTo(200);

    clock.advance(TIMEOUT.plusMinutes(1));

    assertThat(v.get("/").headers().firstValue("Location")).hasValue("/login");
    clock.catchUp(Duration.ZERO);
  }

  @Test
  void theOverviewShowsCountsAndTheLastHoursChart() throws Exception {
    Visitor v = new Visitor();
    v.logIn(StatusFixture.BOSS, StatusFixture.BOSS_PASSWORD);

    String body = v.get("/").body();

    assertThat(body).contains("id=\"count-sent\">2<").contains("<svg id=\"throughput\"");
    assertThat(body)
        .containsPattern("<title>\\d\\d:\\d\\d: [12] delivered, [01] deferred, [01] failed</title>")
        .contains("delivered (2)")
        .contains("deferred (1)")
        .contains("failed (1) in the last hour");
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
