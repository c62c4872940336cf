package dev.postroom.mime;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Properties;

/**
 * A Jakarta Mail message that keeps the Message-ID it was given (Jakarta Mail would make up a new
 * one on every save) and writes itself through a {@link WireFormatGuard}.
 */
final class ComposedMessage extends MimeMessage {

  private static final Session SESSION = Session.getInstance(new Properties());

  private final String messageId;

  ComposedMessage(String messageId) {
    super(SESSION);
    this.messageId = messageId;
  }

  @Override
  protected void updateMessageID() throws MessagingException {
    setHeader("Message-ID", messageId);
  }

  /** Writes the whole message, checked and CRLF-terminated, and flushes {@code out}. */
  void writeChecked(OutputStream out) throws IOException {
    WireFormatGuard guard = new WireFormatGuard(out);
    BufferedOutputStream buffered = new BufferedOutputStream(guard, 16 * 1024);
    try {
      writeTo(buffered);
    } catch (MessagingException e) {
      throw new IOException("could not compose message " + messageId, e);
    }
    buffered.flush();
    guard.finish();
  }
}
