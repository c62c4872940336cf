package dev.postroom.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The status page in a real browser: Debian's Chromium driven by Selenium through chromedriver,
 * headless, against the SCRAM cluster of {@link StatusFixture}. Skipped, with a message, where
 * Chromium or chromedriver is not installed ({@code .ci/run} installs them).
 */
class StatusPageBrowserTest {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  static final Path SCREENSHOT = Path.of("target", "status-page-overview.png");

  static StatusFixture fixture;
  static WebServer server;
  static ChromeDriver browser;
  @TempDir static Path profile;

  @BeforeAll
  static void start() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "browser tests skipped: install Debian's chromium and chromium-driver"
            + " (apt-get install chromium chromium-driver) for "
            + CHROMIUM
            + " and "
            + CHROMEDRIVER);
    Assumptions.assumeTrue(
        ScramCluster.unavailable().isEmpty(), () -> ScramCluster.unavailable().orElse(""));
    fixture = StatusFixture.start();
    server = WebServer.start(fixture.webConfig(Duration.ofMinutes(30)), Clock.systemUTC());
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--user-data-dir=" + profile.toAbsolutePath());
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .build();
    browser = new ChromeDriver(service, options);
    browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
  }

  @AfterAll
  static void stop() throws Exception {
    if (browser != null) {
      browser.quit();
    }
    if (server != null) {
      server.close();
    }
    if (fixture != null) {
      fixture.close();
    }
  }

  @BeforeEach
  void loggedOut() {
    browser.manage().deleteAllCookies();
  }

  @Test
  void aSenderSeesOnlyItsOwnMail() {
    logIn(StatusFixture.ALICE, StatusFixture.ALICE_PASSWORD);

    open("/mails");

    List<String> subjects = column("#mails tr.mail td:nth-child(5)");
    assertThat(subjects)
        .containsExactlyInAnyOrder(
            "Welcome <b>Ann</b> & co", "Invoice for nobody", "Greylisted hello");
    assertThat(browser.findElement(By.id("role")).getText()).isEqualTo(StatusFixture.ALICE);
    assertThat(browser.findElements(By.linkText("Accounts and profiles"))).isEmpty();
  }

  @Test
  void aFailedMailShowsIts550AndRetryQueuesItAgain() throws Exception {
    logIn(StatusFixture.ALICE, StatusFixture.ALICE_PASSWORD);
    long mail = fixture.aliceFailed;

    open("/mails/" + mail);

    assertThat(text("mail-status")).isEqualTo("failed");
    WebElement recipient = browser.findElement(By.cssSelector("#recipients tr.recipient"));
    assertThat(recipient.getText())
        .contains(StatusFixture.REJECTED)
        .contains("failed")
        .contains("550")
        .contains("5.1.1")
        .contains(StatusFixture.REJECT_TEXT);
    assertThat(browser.findElement(By.id("events")).getText()).contains("failed").contains("550");
    assertThat(browser.findElements(By.id("cancel"))).isEmpty();

    browser.findElement(By.id("retry")).click();

    assertThat(text("flash")).isEqualTo("Mail " + mail + " is queued again.");
    assertThat(text("mail-status")).isEqualTo("queued");
    assertThat(browser.findElements(By.id("retry"))).isEmpty();
    assertThat(browser.findElement(By.id("cancel")).isDisplayed()).isTrue();
    assertThat(fixture.status(mail)).isEqualTo("queued");
    assertThat(browser.findElement(By.id("events")).getText()).contains("retried");
  }

  @Test
  void anAdminSeesEveryMail() {
    logIn(StatusFixture.BOSS, StatusFixture.BOSS_PASSWORD);

    open("/mails");

    assertThat(column("#mails tr.mail td:nth-child(5)"))
        .contains("Bob's private note", "Invoice for nobody", "Greylisted hello");
    assertThat(column("#mails tr.mail td:nth-child(4)"))
        .contains(StatusFixture.ALICE, StatusFixture.BOB);
    assertThat(browser.findElements(By.linkText("Accounts and profiles"))).hasSize(1);
  }

  @Test
  void aWrongPasswordShowsAnErrorAndNothingElse() {
    logIn(StatusFixture.BOB, "wrong");

    assertThat(text("login-error")).isEqualTo("Login failed: wrong role name or password.");
    assertThat(browser.findElements(By.id("logout"))).isEmpty();
    assertThat(browser.findElements(By.tagName("nav"))).isEmpty();
    assertThat(browser.getPageSource()).doesNotContain("private note");
    open("/mails");
    assertThat(browser.getCurrentUrl()).endsWith("/login");
  }

  @Test
  void theOverviewDrawsTheLastHourAndIsSavedAsAScreenshot() throws Exception {
    logIn(StatusFixture.BOSS, StatusFixture.BOSS_PASSWORD);
    browser.manage().window().setSize(new Dimension(1100, 720));

    open("/");

    assertThat(browser.findElements(By.cssSelector("#throughput rect.delivered"))).isNotEmpty();
    assertThat(browser.findElements(By.cssSelector("#throughput rect.failed"))).isNotEmpty();
    assertThat(text("count-sent")).isEqualTo("2");
    File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
    Files.createDirectories(SCREENSHOT.getParent());
    Files.copy(shot.toPath(), SCREENSHOT, StandardCopyOption.REPLACE_EXISTING);
    assertThat(Files.size(SCREENSHOT)).isGreaterThan(10_000);
  }

  private void logIn(String role, String password) {
    open("/login");
    browser.findElement(By.id("user")).sendKeys(role);
    browser.findElement(By.id("password")).sendKeys(password);
    browser.findElement(By.id("login")).click();
    // The click only starts the form's POST: wait for its answer before the next navigation, or
    // that navigation may overtake the login and land on the login page.
    new WebDriverWait(browser, Duration.ofSeconds(20))
        .until(
            d -> !d.findElements(By.id("logout")).isEmpty()
                || !d.findElements(By.id("login-error")).isEmpty());
  }

  private void open(String path) {
    browser.get("http://127.0.0.1:" + server.port() + path);
  }

  private String text(String id) {
    return browser.findElement(By.id(id)).getText();
  }

  private List<String> column(String css) {
    return browser.findElements(By.cssSelector(css)).stream().map(WebElement::getText).toList();
  }
}
