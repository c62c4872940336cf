package dev.postroom.cli.demo;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server side of one SMTP connection for {@link CaptureSmtpServer}. States: greeting sent →
 * EHLO/HELO → MAIL → RCPT+ → DATA → back to greeted; RSET and EHLO return to greeted. Replies are
 * flushed only when no further pipelined command is waiting, as RFC 2920 allows.
 */
final class SmtpSession {
  /** RFC 5321 §4.5.3.1.4 command line limit, CRLF included. */
  static final int MAX_COMMAND_LINE = 512;

  /** RFC 5321 §4.5.3.1.6 text line limit, CRLF included; longer lines are still taken in full. */
  static final int MAX_TEXT_LINE = 1000;

  private static final Pattern PATH =
      Pattern.compile("(?i)^(FROM|TO):\\s*<([^<>]*)>(?:\\s+(.*))?$");

  private final CaptureSmtpServer server;
  private final InputStream in;
  private final OutputStream out;
  private boolean greeted;
  private String reversePath;
  private final List<String> forwardPaths = new ArrayList<>();

  SmtpSession(Socket socket, CaptureSmtpServer server) throws IOException {
    this.server = server;
    this.in = new BufferedInputStream(socket.getInputStream());
    this.out = new BufferedOutputStream(socket.getOutputStream());
  }

  void run() throws IOException {
    reply("220 " + server.hostName() + " ESMTP Postroom capture server ready");
    while (true) {
      byte[] raw = readLine(MAX_COMMAND_LINE * 8);
      if (raw == null) {
        return;
      }
      if (raw.length > MAX_COMMAND_LINE - 2) {
        reply("500 5.5.6 Line too long");
        continue;
      }
      String line = new String(raw, StandardCharsets.UTF_8);
      int space = line.indexOf(' ');
      String verb = (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
      String argument = space < 0 ? "" : line.substring(space + 1).strip();
      if (!command(verb, argument)) {
        out.flush();
        return;
      }
    }
  }

  /** Handles one command; false when the session ends. */
  private boolean command(String verb, String argument) throws IOException {
    switch (verb) {
      case "EHLO" -> {
        if (argument.isEmpty()) {
          reply("501 5.5.4 Syntax: EHLO hostname");
        } else {
          reset();
          greeted = true;
          reply(
              "250-" + server.hostName() + " greets " + argument,
              "250-PIPELINING",
              "250-SIZE " + CaptureSmtpServer.MAX_MESSAGE_BYTES,
              "250-8BITMIME",
              "250-SMTPUTF8",
              "250-ENHANCEDSTATUSCODES",
              "250 HELP");
        }
      }
      case "HELO" -> {
        if (argument.isEmpty()) {
          reply("501 5.5.4 Syntax: HELO hostname");
        } else {
          reset();
          greeted = true;
          reply("250 " + server.hostName());
        }
      }
      case "MAIL" -> mail(argument);
      case "RCPT" -> rcpt(argument);
      case "DATA" -> data(argument);
      case "RSET" -> {
        reset();
        reply("250 2.0.0 Ok");
      }
      case "NOOP" -> reply("250 2.0.0 Ok");
      case "VRFY" ->
          reply("252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
      case "HELP" -> reply("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY QUIT");
      case "QUIT" -> {
        reply("221 2.0.0 Bye");
        return false;
      }
      case "STARTTLS", "AUTH", "EXPN", "BDAT" -> reply("502 5.5.1 Command not implemented");
      default -> reply("500 5.5.2 Command unrecognized");
    }
    return true;
  }

  private void mail(String argument) throws IOException {
    Matcher m = PATH.matcher(argument);
    if (!greeted) {
      reply("503 5.5.1 Send EHLO or HELO first");
    } else if (reversePath != null) {
      reply("503 5.5.1 Nested MAIL command");
    } else if (!m.matches() || !m.group(1).equalsIgnoreCase("FROM")) {
      reply("501 5.5.4 Syntax: MAIL FROM:<address>");
    } else if (sizeTooLarge(m.group(3))) {
      reply("552 5.3.4 Message size exceeds fixed limit");
    } else {
      reversePath = m.group(2);
      reply("250 2.1.0 Ok");
    }
  }

  private void rcpt(String argument) throws IOException {
    Matcher m = PATH.matcher(argument);
    if (reversePath == null) {
      reply("503 5.5.1 Need MAIL before RCPT");
    } else if (!m.matches() || !m.group(1).equalsIgnoreCase("TO") || m.group(2).isEmpty()) {
      reply("501 5.1.3 Syntax: RCPT TO:<address>");
    } else if (forwardPaths.size() >= CaptureSmtpServer.MAX_RECIPIENTS) {
      reply("452 4.5.3 Too many recipients");
    } else {
      String configured = server.rcptReply(m.group(2));
      if (configured != null) {
        reply(configured);
      } else {
        forwardPaths.add(m.group(2));
        reply("250 2.1.5 Ok");
      }
    }
  }

  private void data(String argument) throws IOException {
    if (!argument.isEmpty()) {
      reply("501 5.5.4 Syntax: DATA");
      return;
    }
    if (reversePath == null) {
      reply("503 5.5.1 Need MAIL before DATA");
      return;
    }
    if (forwardPaths.isEmpty()) {
      reply("554 5.5.1 No valid recipients");
      return;
    }
    reply("354 End data with <CR><LF>.<CR><LF>");
    ByteArrayOutputStream content = new ByteArrayOutputStream();
    boolean tooLarge = false;
    while (true) {
      byte[] line = readLine((int) CaptureSmtpServer.MAX_MESSAGE_BYTES + 1);
      if (line == null) {
        throw new IOException("connection closed during DATA");
      }
      if (line.length == 1 && line[0] == '.') {
        break;
      }
      int from = line.length > 0 && line[0] == '.' ? 1 : 0;
      if (content.size() + line.length + 2 > CaptureSmtpServer.MAX_MESSAGE_BYTES) {
        tooLarge = true;
      } else {
        content.write(line, from, line.length - from);
        content.write('\r');
        content.write('\n');
      }
    }
    if (tooLarge) {
      reply("552 5.3.4 Message size exceeds fixed limit");
    } else {
      long id = server.store(reversePath, forwardPaths, content.toByteArray());
      reply("250 2.0.0 Ok: queued as " + id);
    }
    reset();
  }

  private static boolean sizeTooLarge(String parameters) {
    if (parameters == null) {
      return false;
    }
    for (String p : parameters.split("\\s+")) {
      if (p.toUpperCase(Locale.ROOT).startsWith("SIZE=")) {
        try {
          return Long.parseLong(p.substring(5)) > CaptureSmtpServer.MAX_MESSAGE_BYTES;
        } catch (NumberFormatException e) {
          return false;
        }
      }
    }
    return false;
  }

  private void reset() {
    reversePath = null;
    forwardPaths.clear();
  }

  /** One line without its CRLF (a bare LF is tolerated), or null at end of stream. */
  private byte[] readLine(int limit) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(128);
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int length = bytes.length;
        if (length > 0 && bytes[length - 1] == '\r') {
          length--;
        }
        return java.util.Arrays.copyOf(bytes, length);
      }
      if (line.size() < limit) {
        line.write(b);
      }
    }
    return null;
  }

  private void reply(String... lines) throws IOException {
    for (String line : lines) {
      out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }
    if (in.available() == 0) {
      out.flush();
    }
  }
}
