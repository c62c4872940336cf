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
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * The server side of one SMTP connection for {@link CaptureSmtpServer}. States: greeting sent →
 * EHLO/HELO → (STARTTLS → EHLO) → (AUTH) → MAIL → RCPT+ → DATA → back to greeted; RSET and EHLO
 * return to greeted. Replies are flushed only when no further pipelined command is waiting, as RFC
 * 2920 allows.
 */
final class SmtpSession {
  /** RFC 5321 §4.5.3.1.4 command line limit, CRLF included. */
  static final int MAX_COMMAND_LINE = 512;

  /** RFC 4954 §4 limit for an AUTH command or response line, CRLF included. */
  static final int MAX_AUTH_LINE = 12_288;

  /** RFC 5321 §4.5.3.1.6 text line limit, CRLF included. */
  static final int MAX_TEXT_LINE = 1000;

  /** Commands after which a client must wait for the reply even with PIPELINING (RFC 2920). */
  private static final Set<String> LAST_IN_GROUP =
      Set.of("EHLO", "HELO", "STARTTLS", "AUTH", "DATA", "NOOP", "QUIT");

  private static final Pattern PATH = Pattern.compile("(?i)^(FROM|TO):<([^<>]*)>(?: (.*))?$");

  private final CaptureSmtpServer server;
  private final CaptureSmtpServer.Options options;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private boolean tls;
  private boolean greeted;
  private boolean extended;
  private String user;
  private String reversePath;
  private boolean mailTried;
  private boolean rcptTried;
  private boolean declared8Bit;
  private boolean smtpUtf8;
  private List<String> mailParameters = List.of();
  private final List<String> forwardPaths = new ArrayList<>();
  private final List<String> rcptParameters = new ArrayList<>();
  private int rcptIndex;

  SmtpSession(Socket socket, CaptureSmtpServer server) throws IOException {
    this.server = server;
    this.options = server.settings();
    attach(socket);
    if (options.implicitTlsContext() != null) {
      upgrade(options.implicitTlsContext());
    }
  }

  private void attach(Socket s) throws IOException {
    this.socket = s;
    this.in = new BufferedInputStream(s.getInputStream());
    this.out = new BufferedOutputStream(s.getOutputStream());
  }

  private void upgrade(SSLContext context) throws IOException {
    SSLSocket tlsSocket =
        (SSLSocket) context.getSocketFactory().createSocket(socket, null, socket.getPort(), true);
    tlsSocket.setUseClientMode(false);
    tlsSocket.startHandshake();
    attach(tlsSocket);
    tls = true;
  }

  void run() throws IOException {
    reply("220 " + server.hostName() + " ESMTP Postroom capture server ready");
    while (true) {
      byte[] raw = readLine(MAX_AUTH_LINE);
      if (raw == null) {
        return;
      }
      String line = text(raw);
      int space = line.indexOf(' ');
      String verb = (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
      String argument = space < 0 ? "" : line.substring(space + 1);
      String problem = lineProblem(raw, verb.equals("AUTH") ? MAX_AUTH_LINE : MAX_COMMAND_LINE);
      if (problem != null) {
        refuse("500 5.5.2 " + problem, verb);
        continue;
      }
      if (in.available() > 0 && !offers("PIPELINING")) {
        refuse("503 5.5.0 Pipelining without PIPELINING", verb);
        continue;
      }
      if (in.available() > 0 && LAST_IN_GROUP.contains(verb)) {
        refuse("503 5.5.0 " + verb + " must end a pipelined group", verb);
        continue;
      }
      if (!command(verb, argument)) {
        out.flush();
        return;
      }
    }
  }

  /** Why a command line breaks RFC 5321's line rules, or null. */
  private static String lineProblem(byte[] raw, int limit) {
    int n = raw.length;
    if (n < 2 || raw[n - 1] != '\n' || raw[n - 2] != '\r') {
      return n > limit ? "Line too long" : "Bare LF";
    }
    for (int i = 0; i < n - 2; i++) {
      if (raw[i] == '\r' || raw[i] == '\n') {
        return "Bare CR";
      }
    }
    return n > limit ? "Line too long" : null;
  }

  private boolean offers(String keyword) {
    return extended && options.offers(keyword);
  }

  private boolean startTlsOffered() {
    return extended && options.startTlsContext() != null && !tls;
  }

  private boolean authOffered() {
    return extended && options.user() != null;
  }

  /** Handles one command; false when the session ends. */
  private boolean command(String verb, String argument) throws IOException {
    switch (verb) {
      case "EHLO", "HELO" -> greet(verb, argument);
      case "STARTTLS" -> startTls(argument);
      case "AUTH" -> auth(argument);
      case "MAIL" -> mail(argument);
      case "RCPT" -> rcpt(argument);
      case "DATA" -> data(argument);
      case "RSET" -> {
        if (!argument.isEmpty()) {
          refuse("501 5.5.4 Syntax: RSET", verb);
        } else {
          reset();
          reply("250 2.0.0 Ok");
        }
      }
      case "NOOP" -> reply("250 2.0.0 Ok");
      case "VRFY" ->
          reply("252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
      case "HELP" -> reply("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY QUIT");
      case "QUIT" -> {
        reply("221 2.0.0 Bye");
        return false;
      }
      case "EXPN", "BDAT" -> reply("502 5.5.1 Command not implemented");
      default -> refuse("500 5.5.2 Command unrecognized", verb);
    }
    return true;
  }

  /** Answers with a refusal the client should never have caused, and records it. */
  private void refuse(String reply, String verb) throws IOException {
    refuse(reply, verb, false);
  }

  /** Like {@link #refuse(String, String)}; an excused refusal (pipelined blind) is not recorded. */
  private void refuse(String reply, String verb, boolean excused) throws IOException {
    if (!excused) {
      server.violation(verb + ": " + reply);
    }
    reply(reply);
  }

  private void greet(String verb, String argument) throws IOException {
    if (argument.isBlank()) {
      refuse("501 5.5.4 Syntax: " + verb + " hostname", verb);
      return;
    }
    reset();
    greeted = true;
    extended = verb.equals("EHLO");
    if (!extended) {
      reply("250 " + server.hostName());
      return;
    }
    List<String> lines = new ArrayList<>();
    lines.add(server.hostName() + " greets " + argument);
    for (String keyword : List.of("PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "DSN")) {
      if (options.offers(keyword)) {
        lines.add(keyword.equals("SIZE") ? "SIZE " + options.maxMessageBytes() : keyword);
      }
    }
    if (startTlsOffered()) {
      lines.add("STARTTLS");
    }
    if (authOffered()) {
      lines.add("AUTH PLAIN LOGIN");
    }
    if (options.offers("ENHANCEDSTATUSCODES")) {
      lines.add("ENHANCEDSTATUSCODES");
    }
    lines.add("HELP");
    String[] reply = new String[lines.size()];
    for (int i = 0; i < reply.length; i++) {
      reply[i] = "250" + (i == reply.length - 1 ? " " : "-") + lines.get(i);
    }
    reply(reply);
  }

  private void startTls(String argument) throws IOException {
    if (!startTlsOffered()) {
      refuse("502 5.5.1 STARTTLS not offered", "STARTTLS");
    } else if (!argument.isEmpty()) {
      refuse("501 5.5.4 Syntax: STARTTLS", "STARTTLS");
    } else if (reversePath != null) {
      refuse("503 5.5.1 STARTTLS inside a mail transaction", "STARTTLS");
    } else {
      reply("220 2.0.0 Ready to start TLS");
      out.flush();
      upgrade(options.startTlsContext());
      greeted = false;
      extended = false;
      user = null;
      reset();
    }
  }

  private void auth(String argument) throws IOException {
    String[] parts = argument.split(" ", 2);
    String mechanism = parts[0].toUpperCase(Locale.ROOT);
    if (!authOffered()) {
      refuse("503 5.5.1 AUTH not offered", "AUTH");
    } else if (user != null) {
      refuse("503 5.5.1 Already authenticated", "AUTH");
    } else if (reversePath != null) {
      refuse("503 5.5.1 AUTH inside a mail transaction", "AUTH");
    } else if (options.startTlsContext() != null && !tls) {
      refuse("538 5.7.11 Encryption required for requested authentication mechanism", "AUTH");
    } else if (!mechanism.equals("PLAIN") && !mechanism.equals("LOGIN")) {
      refuse("504 5.5.4 Mechanism " + mechanism + " not offered", "AUTH");
    } else {
      List<String> responses = new ArrayList<>();
      if (parts.length > 1) {
        responses.add(parts[1]);
      }
      int wanted = mechanism.equals("PLAIN") ? 1 : 2;
      List<String> challenges = List.of("VXNlcm5hbWU6", "UGFzc3dvcmQ6");
      while (responses.size() < wanted) {
        reply("334 " + (mechanism.equals("PLAIN") ? "" : challenges.get(responses.size())));
        out.flush();
        byte[] raw = readLine(MAX_AUTH_LINE);
        if (raw == null) {
          throw new IOException("connection closed during AUTH");
        }
        if (lineProblem(raw, MAX_AUTH_LINE) != null) {
          server.violation("AUTH: response line " + lineProblem(raw, MAX_AUTH_LINE));
        }
        responses.add(text(raw));
      }
      checkCredentials(mechanism, responses);
    }
  }

  private void checkCredentials(String mechanism, List<String> responses) throws IOException {
    List<String> decoded = new ArrayList<>();
    for (String response : responses) {
      if (response.equals("*")) {
        reply("501 5.7.0 Authentication cancelled");
        return;
      }
      try {
        decoded.add(new String(Base64.getDecoder().decode(response), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        refuse("501 5.5.2 Cannot decode AUTH response", "AUTH");
        return;
      }
    }
    String expectedUser = options.user();
    String expectedSecret = options.secret();
    boolean good =
        mechanism.equals("PLAIN")
            ? decoded.get(0).equals("\0" + expectedUser + "\0" + expectedSecret)
                || decoded.get(0).equals(expectedUser + "\0" + expectedUser + "\0" + expectedSecret)
            : decoded.get(0).equals(expectedUser) && decoded.get(1).equals(expectedSecret);
    if (good) {
      user = expectedUser;
      reply("235 2.7.0 Authentication successful");
    } else {
      refuse("535 5.7.8 Authentication credentials invalid", "AUTH");
    }
  }

  private void mail(String argument) throws IOException {
    Matcher m = PATH.matcher(argument);
    if (!greeted) {
      refuse("503 5.5.1 Send EHLO or HELO first", "MAIL");
      return;
    }
    if (reversePath != null) {
      refuse("503 5.5.1 Nested MAIL command", "MAIL");
      return;
    }
    if (options.user() != null && user == null) {
      refuse("530 5.7.0 Authentication required", "MAIL");
      return;
    }
    if (!m.matches() || !m.group(1).equalsIgnoreCase("FROM")) {
      refuse("501 5.5.4 Syntax: MAIL FROM:<address>", "MAIL");
      return;
    }
    mailTried = true;
    List<String> parameters = m.group(3) == null ? List.of() : List.of(m.group(3).split(" "));
    boolean utf8 = false;
    boolean eightBit = false;
    for (String p : parameters) {
      String name = p.split("=", 2)[0].toUpperCase(Locale.ROOT);
      String value = p.contains("=") ? p.substring(p.indexOf('=') + 1) : "";
      boolean offered =
          switch (name) {
            case "SIZE" -> offers("SIZE") && value.matches("[0-9]{1,18}");
            case "BODY" ->
                value.equalsIgnoreCase("7BIT")
                    || value.equalsIgnoreCase("8BITMIME") && offers("8BITMIME");
            case "SMTPUTF8" -> offers("SMTPUTF8") && value.isEmpty();
            case "RET", "ENVID" -> offers("DSN");
            case "AUTH" -> authOffered();
            default -> false;
          };
      if (!offered) {
        refuse("555 5.5.4 Unsupported parameter " + name, "MAIL");
        return;
      }
      if (name.equals("SIZE") && Long.parseLong(value) > options.maxMessageBytes()) {
        reply("552 5.3.4 Message size exceeds fixed limit");
        return;
      }
      utf8 |= name.equals("SMTPUTF8");
      eightBit |= name.equals("BODY") && value.equalsIgnoreCase("8BITMIME");
    }
    if (!utf8 && !isAscii(m.group(2))) {
      refuse("553 5.6.7 Non-ASCII address without SMTPUTF8", "MAIL");
      return;
    }
    reversePath = m.group(2);
    mailParameters = parameters;
    smtpUtf8 = utf8;
    declared8Bit = utf8 || eightBit;
    reply("250 2.1.0 Ok");
  }

  private void rcpt(String argument) throws IOException {
    Matcher m = PATH.matcher(argument);
    if (reversePath == null) {
      refuse("503 5.5.1 Need MAIL before RCPT", "RCPT", offers("PIPELINING") && mailTried);
      return;
    }
    rcptTried = true;
    if (!m.matches() || !m.group(1).equalsIgnoreCase("TO") || m.group(2).isEmpty()) {
      refuse("501 5.1.3 Syntax: RCPT TO:<address>", "RCPT");
      return;
    }
    String parameters = m.group(3) == null ? "" : m.group(3);
    for (String p : parameters.isEmpty() ? new String[0] : parameters.split(" ")) {
      String name = p.split("=", 2)[0].toUpperCase(Locale.ROOT);
      if (!(name.equals("NOTIFY") || name.equals("ORCPT")) || !offers("DSN")) {
        refuse("555 5.5.4 Unsupported parameter " + name, "RCPT");
        return;
      }
    }
    if (!smtpUtf8 && !isAscii(m.group(2))) {
      refuse("553 5.6.7 Non-ASCII address without SMTPUTF8", "RCPT");
      return;
    }
    if (forwardPaths.size() >= CaptureSmtpServer.MAX_RECIPIENTS) {
      reply("452 4.5.3 Too many recipients");
      return;
    }
    String configured = server.rcptReply(m.group(2), rcptIndex++);
    if (configured != null && !configured.startsWith("2")) {
      reply(configured);
    } else {
      forwardPaths.add(m.group(2));
      rcptParameters.add(parameters);
      reply(configured != null ? configured : "250 2.1.5 Ok");
    }
  }

  private void data(String argument) throws IOException {
    boolean blind = offers("PIPELINING") && (mailTried && reversePath == null || rcptTried);
    if (!argument.isEmpty()) {
      refuse("501 5.5.4 Syntax: DATA", "DATA");
      return;
    }
    if (reversePath == null) {
      refuse("503 5.5.1 Need MAIL before DATA", "DATA", blind);
      return;
    }
    if (forwardPaths.isEmpty()) {
      refuse("554 5.5.1 No valid recipients", "DATA", blind);
      return;
    }
    reply("354 End data with <CR><LF>.<CR><LF>");
    out.flush();
    ByteArrayOutputStream content = new ByteArrayOutputStream();
    boolean tooLarge = false;
    String problem = null;
    while (true) {
      byte[] line = readLine(MAX_TEXT_LINE * 64);
      if (line == null) {
        throw new IOException("connection closed during DATA");
      }
      if (line.length == 3 && line[0] == '.' && line[1] == '\r' && line[2] == '\n') {
        break;
      }
      if (problem == null) {
        problem = dataProblem(line, content.size());
      }
      int from = line.length > 0 && line[0] == '.' ? 1 : 0;
      if (content.size() + line.length > options.maxMessageBytes()) {
        tooLarge = true;
      } else {
        content.write(line, from, line.length - from);
      }
    }
    if (problem == null && in.available() > 0 && !offers("PIPELINING")) {
      problem = "Pipelining without PIPELINING after the final dot";
    }
    if (tooLarge) {
      reply("552 5.3.4 Message size exceeds fixed limit");
    } else if (problem != null) {
      refuse("554 5.6.0 " + problem, "DATA");
    } else {
      server.delayEndOfData();
      long id =
          server.store(
              reversePath,
              forwardPaths,
              content.toByteArray(),
              mailParameters,
              rcptParameters,
              tls,
              user);
      reply("250 2.0.0 Ok: queued as " + id);
    }
    reset();
  }

  /** Why a line of message data breaks RFC 5321/6152, or null. */
  private String dataProblem(byte[] line, int offset) {
    int n = line.length;
    if (n < 2 || line[n - 1] != '\n' || line[n - 2] != '\r') {
      return n >= MAX_TEXT_LINE ? "Message line too long" : "Bare LF in the message";
    }
    if (n > MAX_TEXT_LINE) {
      return "Message line of " + n + " octets (at most " + MAX_TEXT_LINE + ")";
    }
    for (int i = 0; i < n - 2; i++) {
      if (line[i] == '\r') {
        return "Bare CR in the message at octet " + (offset + i);
      }
      if (line[i] == 0) {
        return "NUL in the message at octet " + (offset + i);
      }
      if (line[i] < 0 && !declared8Bit) {
        return "8-bit octet without BODY=8BITMIME or SMTPUTF8 at octet " + (offset + i);
      }
    }
    return null;
  }

  private static boolean isAscii(String s) {
    return s.chars().allMatch(c -> c < 0x80);
  }

  private void reset() {
    reversePath = null;
    mailTried = false;
    rcptTried = false;
    declared8Bit = false;
    smtpUtf8 = false;
    mailParameters = List.of();
    forwardPaths.clear();
    rcptParameters.clear();
    rcptIndex = 0;
  }

  private static String text(byte[] raw) {
    int end = raw.length;
    while (end > 0 && (raw[end - 1] == '\n' || raw[end - 1] == '\r')) {
      end--;
    }
    return new String(raw, 0, end, StandardCharsets.UTF_8);
  }

  /**
   * One line with its terminator as received, or null at end of stream; a line over {@code limit}
   * octets is read to its end but returned cut to {@code limit + 1} octets without a terminator.
   */
  private byte[] readLine(int limit) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(128);
    int b;
    while ((b = in.read()) != -1) {
      if (line.size() <= limit) {
        line.write(b);
      }
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        return bytes.length > limit ? Arrays.copyOf(bytes, limit + 1) : bytes;
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
