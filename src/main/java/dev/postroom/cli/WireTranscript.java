package dev.postroom.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.io.PrintStream;
import org.slf4j.LoggerFactory;

/**
 * Prints the SMTP dialogue ("C: …" and "S: …" lines) to a command's output while open, from the
 * client's wire trace, which already hides AUTH exchanges and message content.
 */
final class WireTranscript extends AppenderBase<ILoggingEvent> implements AutoCloseable {
  private static final String WIRE_LOGGER = "dev.postroom.smtp.wire";

  private final PrintStream out;
  private final Logger logger;
  private final Level previousLevel;
  private final boolean previousAdditive;

  private WireTranscript(PrintStream out, Logger logger) {
    this.out = out;
    this.logger = logger;
    this.previousLevel = logger.getLevel();
    this.previousAdditive = logger.isAdditive();
  }

  static WireTranscript to(PrintStream out) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      throw new IllegalStateException("Logback is not the SLF4J backend");
    }
    WireTranscript transcript = new WireTranscript(out, context.getLogger(WIRE_LOGGER));
    transcript.setContext(context);
    transcript.setName("postroom-wire-transcript");
    transcript.start();
    transcript.logger.addAppender(transcript);
    transcript.logger.setLevel(Level.TRACE);
    transcript.logger.setAdditive(false);
    return transcript;
  }

  @Override
  protected void append(ILoggingEvent event) {
    String line = event.getFormattedMessage();
    int client = line.indexOf(" C: ");
    int server = line.indexOf(" S: ");
    int at = client < 0 ? server : server < 0 ? client : Math.min(client, server);
    out.println("    " + (at < 0 ? line : line.substring(at + 1)));
  }

  @Override
  public void close() {
    logger.detachAppender(this);
    logger.setLevel(previousLevel);
    logger.setAdditive(previousAdditive);
    stop();
  }
}
