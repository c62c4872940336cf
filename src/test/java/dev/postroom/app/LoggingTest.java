package dev.postroom.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class LoggingTest {
  private static final Logger log = LoggerFactory.getLogger("dev.postroom.app.LoggingTest");
  private static final Logger library = LoggerFactory.getLogger("com.zaxxer.hikari.Pool");

  @Test
  void jsonFormatWritesOneJsonObjectPerLine() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (Logging ignored = Logging.configure(LogFormat.JSON, Level.INFO, out)) {
      log.info("dispatcher {} started", "d1");
    }

    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text.lines()).hasSize(1);
    assertThat(text.strip())
        .startsWith("{")
        .endsWith("}")
        .contains("\"level\":\"INFO\"")
        .contains("\"loggerName\":\"dev.postroom.app.LoggingTest\"")
        .contains("\"formattedMessage\":\"dispatcher d1 started\"");
  }

  @Test
  void quietByDefaultPostroomAtInfoLibrariesAtWarn() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (Logging ignored = Logging.configure(LogFormat.TEXT, Level.INFO, out)) {
      log.debug("not shown");
      log.info("shown");
      library.info("pool started");
      library.warn("pool trouble");
    }

    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("INFO  LoggingTest - shown")
        .contains("pool trouble")
        .doesNotContain("not shown")
        .doesNotContain("pool started");
  }

  @Test
  void closingRestoresThePreviousLevels() {
    ch.qos.logback.classic.Logger postroom =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.postroom");
    Level before = postroom.getLevel();

    Logging.configure(LogFormat.TEXT, Level.DEBUG, new ByteArrayOutputStream()).close();

    assertThat(postroom.getLevel()).isEqualTo(before);
  }

  @Test
  void theBundledLogbackConfigurationParsesWithoutErrors() throws Exception {
    LoggerContext context = new LoggerContext();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(Path.of("src/main/resources/logback.xml").toFile());

    assertThat(new StatusUtil(context).getHighestLevel(0)).isLessThan(Status.WARN);
    assertThat(context.getLogger("dev.postroom").getLevel()).isEqualTo(Level.INFO);
    assertThat(context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getLevel())
        .isEqualTo(Level.WARN);
  }
}
