package dev.postroom.app;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Points Logback at one stream (the command's standard error) in the chosen format. Quiet by
 * default: Postroom's own loggers at INFO, libraries at WARN; {@code verbose} lowers Postroom to
 * DEBUG. {@link #close()} restores what was there before, so commands run in-process (tests) leave
 * the logging as they found it.
 */
public final class Logging implements AutoCloseable {
  static final String TEXT_PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level %logger{0} - %msg%n";
  private static final List<String> QUIET_LIBRARIES =
      List.of("com.zaxxer.hikari", "org.flywaydb", "org.jdbi", "org.postgresql");

  private final LoggerContext context;
  private final List<Appender<ILoggingEvent>> previousAppenders;
  private final Map<String, Level> previousLevels = new LinkedHashMap<>();
  private final OutputStreamAppender<ILoggingEvent> appender;

  private Logging(LoggerContext context, OutputStreamAppender<ILoggingEvent> appender) {
    this.context = context;
    this.appender = appender;
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    previousAppenders = new ArrayList<>();
    for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
      previousAppenders.add(it.next());
    }
  }

  /**
   * Sends all log lines to {@code stream} in {@code format}. Postroom's loggers log at {@code
   * level} (INFO for a quiet run, DEBUG with {@code --verbose}), everything else at WARN or above.
   */
  public static Logging configure(LogFormat format, Level level, OutputStream stream) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      throw new IllegalStateException("Logback is not the SLF4J backend");
    }
    OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
    appender.setContext(context);
    appender.setName("postroom-" + format.name().toLowerCase(java.util.Locale.ROOT));
    appender.setEncoder(encoder(format, context));
    appender.setImmediateFlush(true);
    appender.setOutputStream(new NonClosing(stream));
    appender.start();

    Logging logging = new Logging(context, appender);
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    logging.setLevel(Logger.ROOT_LOGGER_NAME, Level.WARN);
    logging.setLevel("dev.postroom", level);
    for (String library : QUIET_LIBRARIES) {
      logging.setLevel(library, Level.WARN);
    }
    logging.previousAppenders.forEach(root::detachAppender);
    root.addAppender(appender);
    return logging;
  }

  /** Sets one logger's level until {@link #close()}. */
  public void setLevel(String logger, Level level) {
    Logger l = context.getLogger(logger);
    previousLevels.putIfAbsent(logger, l.getLevel());
    l.setLevel(level);
  }

  private static Encoder<ILoggingEvent> encoder(LogFormat format, LoggerContext context) {
    return switch (format) {
      case TEXT -> {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(TEXT_PATTERN);
        encoder.start();
        yield encoder;
      }
      case JSON -> {
        JsonEncoder encoder = new JsonEncoder();
        encoder.setContext(context);
        encoder.setWithSequenceNumber(false);
        encoder.setWithNanoseconds(false);
        encoder.setWithContext(false);
        encoder.setWithArguments(false);
        encoder.setWithMessage(false);
        encoder.setWithFormattedMessage(true);
        encoder.start();
        yield encoder;
      }
    };
  }

  @Override
  public void close() {
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.detachAppender(appender);
    appender.stop();
    for (Appender<ILoggingEvent> previous : previousAppenders) {
      root.addAppender(previous);
    }
    previousLevels.forEach((name, level) -> context.getLogger(name).setLevel(level));
  }

  /** The command's stream outlives the appender; stopping the appender must not close it. */
  private static final class NonClosing extends java.io.FilterOutputStream {
    NonClosing(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws java.io.IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws java.io.IOException {
      out.flush();
    }
  }
}
