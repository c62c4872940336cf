package dev.postroom.smtp.testserver;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;

/**
 * An SMTP server on a real loopback socket that answers as a test scripts it and records every byte
 * it receives.
 *
 * <p>Replies are scripted per step with {@link #on}: the steps are the command verbs ({@code
 * "EHLO"}, {@code "MAIL"}, {@code "RCPT"}, ...) plus {@code "GREETING"} and {@code "DATA_END"} (the
 * reply after the final "."). Each scripted reply is used once, in order; when none is left the
 * default happy path answers. A reply is raw text (lines joined by CRLF, without the final CRLF),
 * or {@link #STALL} (read on, never answer), {@link #DROP} (close the connection at once) or {@link
 * #trickle} (one byte every so often).
 *
 * <p>The server is strict by default, so a client bug shows up as a refused command rather than a
 * green test: commands must end in CRLF (a bare LF or CR gets {@code 500}), be at most 512 octets
 * (AUTH lines 12,288), and come in RFC 5321 order (MAIL after EHLO/HELO and, when {@link
 * #credentials} are set, after a successful AUTH; RCPT after MAIL; DATA after an accepted RCPT;
 * otherwise {@code 503}/{@code 554}); an unknown command gets {@code 500}; MAIL and RCPT parameters
 * must belong to an advertised extension ({@code 555}); a non-ASCII address needs SMTPUTF8 ({@code
 * 553}); a client that pipelines without PIPELINING, or puts anything after EHLO, STARTTLS, AUTH or
 * DATA in one write, gets {@code 503}; AUTH PLAIN, LOGIN and XOAUTH2 are checked against the
 * configured credentials; more than {@link #maxRecipients} recipients get {@code 452}; a message
 * over the advertised SIZE gets {@code 552}; and message data with a line over 1,000 octets, a bare
 * CR or LF, or 8-bit octets without BODY=8BITMIME/SMTPUTF8 gets {@code 554} after the final dot.
 * Scripted replies replace the default answer only once a command passed these checks. Every
 * refusal is also listed in {@link Session#violations()}. {@link #lenient} turns the checks off for
 * a test that says why.
 */
public final class ScriptedSmtpServer implements AutoCloseable {
  /** Never answer this step (the session keeps reading and recording). */
  public static final String STALL = "<stall>";

  /** Close the connection instead of answering. */
  public static final String DROP = "<drop>";

  /** As a DATA reply: send 354, then close the connection while the client sends content. */
  public static final String DROP_AFTER_354 = "<drop-after-354>";

  /** As a DATA reply: send 354, then stop reading, so the client's writes block. */
  public static final String UNREAD_AFTER_354 = "<unread-after-354>";

  private static final String TRICKLE = "<trickle>";

  private final ServerSocket listener;
  private final Map<String, Deque<String>> scripts = new ConcurrentHashMap<>();
  private final List<Session> sessions = new CopyOnWriteArrayList<>();
  private final CountDownLatch released = new CountDownLatch(1);
  private volatile List<String> ehloKeywords = List.of("PIPELINING", "8BITMIME", "SIZE 10000000");
  private volatile List<String> ehloKeywordsAfterTls;
  private volatile boolean startTls;
  private volatile boolean implicitTls;
  private volatile String injectAfterStartTls = "";
  private volatile long trickleMillis = 50;
  private volatile String lenientBecause;
  private volatile String user;
  private volatile String secret;
  private volatile int maxRecipients = 100;

  /** RFC 5321 §4.5.3.1.4: a command line, CRLF included. */
  public static final int MAX_COMMAND_LINE = 512;

  /** RFC 4954 §4: an AUTH command or response line, CRLF included. */
  public static final int MAX_AUTH_LINE = 12_288;

  /** RFC 5321 §4.5.3.1.6: a text line, CRLF included. */
  public static final int MAX_TEXT_LINE = 1000;

  public ScriptedSmtpServer() throws IOException {
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().name("scripted-smtp-accept").start(this::acceptLoop);
  }

  public int port() {
    return listener.getLocalPort();
  }

  /** Queues replies for {@code step}, used once each and in order before the default. */
  public ScriptedSmtpServer on(String step, String... replies) {
    Deque<String> queue =
        scripts.computeIfAbsent(step.toUpperCase(Locale.ROOT), k -> new ArrayDeque<>());
    synchronized (queue) {
      queue.addAll(List.of(replies));
    }
    return this;
  }

  /**
   * The keywords after the first line of the EHLO reply. STARTTLS is added by {@link #startTls}.
   */
  public ScriptedSmtpServer advertise(String... keywords) {
    ehloKeywords = List.of(keywords);
    return this;
  }

  /** The keywords advertised once TLS is on (default: the same as before). */
  public ScriptedSmtpServer advertiseAfterTls(String... keywords) {
    ehloKeywordsAfterTls = List.of(keywords);
    return this;
  }

  /** Offers STARTTLS with the test certificate; {@code inject} is sent in the same write as 220. */
  public ScriptedSmtpServer startTls(String inject) {
    startTls = true;
    injectAfterStartTls = inject;
    return this;
  }

  /** TLS from the first byte with the test certificate. */
  public ScriptedSmtpServer implicitTls() {
    implicitTls = true;
    return this;
  }

  /**
   * Turns the protocol checks off (the old accept-anything server): only for a test about how the
   * client copes with a server that itself breaks the rules. {@code because} says which rule and
   * why; it is required.
   */
  public ScriptedSmtpServer lenient(String because) {
    if (because == null || because.isBlank()) {
      throw new IllegalArgumentException("say why the test needs a lenient server");
    }
    lenientBecause = because;
    return this;
  }

  /** The only account AUTH accepts; once set, MAIL before a successful AUTH gets 530. */
  public ScriptedSmtpServer credentials(String user, String secret) {
    this.user = user;
    this.secret = secret;
    return this;
  }

  /** Recipients accepted per transaction before 452 4.5.3 (default 100, RFC 5321's minimum). */
  public ScriptedSmtpServer maxRecipients(int max) {
    maxRecipients = max;
    return this;
  }

  private boolean strict() {
    return lenientBecause == null;
  }

  /** A reply sent one byte per {@code millis}, endlessly repeating its text. */
  public String trickle(long millis) {
    trickleMillis = millis;
    return TRICKLE;
  }

  /** Ends every stall at once (for tests that close the client while the server stalls). */
  public void releaseStalls() {
    released.countDown();
  }

  public List<Session> sessions() {
    return List.copyOf(sessions);
  }

  /** The only session so far; fails if there is not exactly one. */
  public Session session() {
    if (sessions.size() != 1) {
      throw new AssertionError("expected one session, got " + sessions.size());
    }
    return sessions.get(0);
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket socket = listener.accept();
        Session session = new Session(socket);
        sessions.add(session);
        Thread.ofVirtual().name("scripted-smtp-session").start(session::run);
      } catch (IOException e) {
        return;
      }
    }
  }

  private String next(String step, String fallback) {
    Deque<String> queue = scripts.get(step);
    if (queue != null) {
      synchronized (queue) {
        if (!queue.isEmpty()) {
          return queue.poll();
        }
      }
    }
    return fallback;
  }

  /**
   * Fails when a client broke a protocol rule in any session so far; every SMTP client test calls
   * it after each test, so a rule broken on the way to a green assertion is still a failure.
   */
  public void assertNoViolations() {
    List<String> all = sessions.stream().flatMap(s -> s.violations().stream()).toList();
    if (!all.isEmpty()) {
      throw new AssertionError("the client broke SMTP rules: " + all);
    }
  }

  @Override
  public void close() throws IOException {
    released.countDown();
    listener.close();
    for (Session s : sessions) {
      s.closeSocket();
    }
  }

  /** One client connection: what it sent and what became of it. */
  public final class Session {
    private static final Set<String> LAST_IN_GROUP =
        Set.of("EHLO", "HELO", "STARTTLS", "AUTH", "DATA", "QUIT", "NOOP");

    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private final List<String> commands = new CopyOnWriteArrayList<>();
    private final List<String> violations = new CopyOnWriteArrayList<>();
    private final List<byte[]> chunks = new CopyOnWriteArrayList<>();
    private final List<byte[]> messages = new CopyOnWriteArrayList<>();
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile Socket socket;
    private volatile boolean tls;
    private InputStream in;
    private OutputStream out;
    private byte[] buf = new byte[0];
    private int pos;
    private boolean greeted;
    private boolean extended;
    private boolean authenticated;
    private boolean mailOpen;
    private boolean mailTried;
    private boolean rcptTried;
    private boolean smtpUtf8;
    private boolean declared8Bit;
    private int accepted;

    private Session(Socket socket) {
      this.socket = socket;
    }

    /** Every byte received, as one string (decrypted after TLS). */
    public synchronized String received() {
      return received.toString(StandardCharsets.ISO_8859_1);
    }

    /** Every byte received, as sent. */
    public synchronized byte[] receivedBytes() {
      return received.toByteArray();
    }

    /** Command lines received, without CRLF (message data excluded). */
    public List<String> commands() {
      return List.copyOf(commands);
    }

    /** The protocol rules the client broke, one line each, in order (empty for a good client). */
    public List<String> violations() {
      return List.copyOf(violations);
    }

    /** The octets each socket read returned, in order. */
    public List<String> chunks() {
      return chunks.stream().map(b -> new String(b, StandardCharsets.ISO_8859_1)).toList();
    }

    /** The raw DATA of each message, between the 354 and the final "." line (still stuffed). */
    public List<byte[]> messages() {
      return List.copyOf(messages);
    }

    public boolean isTls() {
      return tls;
    }

    /** Waits until the client closed the connection (or the server dropped it). */
    public boolean awaitEnd(long millis) throws InterruptedException {
      return ended.await(millis, TimeUnit.MILLISECONDS);
    }

    public boolean ended() {
      return ended.getCount() == 0;
    }

    /** Closes the connection from the server side without a word. */
    public void drop() {
      closeSocket();
    }

    /** Sends bytes nobody asked for (an asynchronous 421, or garbage). */
    public void sendUnsolicited(String text) throws IOException {
      out.write(text.getBytes(StandardCharsets.UTF_8));
      out.flush();
    }

    void closeSocket() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // the test is over
      }
    }

    private void run() {
      try {
        if (implicitTls) {
          upgrade();
        } else {
          attach(socket);
        }
        if (!reply(next("GREETING", "220 test.example ESMTP scripted"))) {
          return;
        }
        while (true) {
          byte[] raw = readRawLine();
          if (raw == null) {
            return;
          }
          String line = text(raw);
          commands.add(line);
          String verb = verb(line);
          String problem = lineProblem(raw, verb.equals("AUTH") ? MAX_AUTH_LINE : MAX_COMMAND_LINE);
          if (problem == null) {
            problem = pipeliningProblem(verb);
          }
          if (problem != null && strict()) {
            violations.add(problem + ": " + line);
            reply(problem.startsWith("pipelin") ? "503 5.5.0 " + problem : "500 5.5.2 " + problem);
            continue;
          }
          if (!handle(verb, line)) {
            return;
          }
        }
      } catch (IOException e) {
        // the client went away or the test dropped the connection
      } finally {
        closeSocket();
        ended.countDown();
      }
    }

    /** Why a command line breaks RFC 5321's line rules, or null. */
    private static String lineProblem(byte[] raw, int limit) {
      int n = raw.length;
      if (n < 2 || raw[n - 2] != '\r') {
        return "bare LF";
      }
      for (int i = 0; i < n - 2; i++) {
        if (raw[i] == '\r') {
          return "bare CR";
        }
      }
      return n > limit ? "line too long (" + n + " octets with CRLF, at most " + limit + ")" : null;
    }

    /** Why a command must not have been followed by more bytes in the same write, or null. */
    private String pipeliningProblem(String verb) {
      if (pos >= buf.length) {
        return null;
      }
      if (!offers("PIPELINING")) {
        return "pipelining without PIPELINING";
      }
      return LAST_IN_GROUP.contains(verb)
          ? "pipelined after " + verb + " (must end a group)"
          : null;
    }

    /** Answers one command; false when the session is over. */
    private boolean handle(String verb, String line) throws IOException {
      String argument = line.length() > verb.length() ? line.substring(verb.length() + 1) : "";
      return switch (verb) {
        case "EHLO", "HELO" -> greet(verb, argument);
        case "STARTTLS" -> startTls();
        case "AUTH" -> auth(argument);
        case "MAIL" -> mail(line);
        case "RCPT" -> rcpt(line);
        case "DATA" -> data(argument);
        case "RSET" -> {
          if (refuse(!argument.isEmpty(), "501 5.5.4 RSET takes no argument", line)) {
            yield true;
          }
          resetTransaction();
          yield reply(next("RSET", "250 2.0.0 Ok"));
        }
        case "NOOP" -> reply(next("NOOP", "250 2.0.0 Ok"));
        case "VRFY" -> reply(next("VRFY", "252 2.0.0 Cannot VRFY user"));
        case "EXPN" -> reply(next("EXPN", "502 5.5.1 EXPN not available"));
        case "HELP" -> reply(next("HELP", "214 2.0.0 See RFC 5321"));
        case "QUIT" -> {
          reply(next("QUIT", "221 2.0.0 Bye"));
          yield false;
        }
        default -> {
          if (strict() && !scripts.containsKey(verb)) {
            violations.add("unknown command: " + line);
          }
          yield reply(next(verb, "500 5.5.2 Command unrecognized"));
        }
      };
    }

    /** In strict mode, answers {@code reply} and records the violation when {@code broken}. */
    private boolean refuse(boolean broken, String reply, String line) throws IOException {
      return refuse(broken, reply, line, false);
    }

    /**
     * Like {@link #refuse(boolean, String, String)}; {@code excused} answers without recording a
     * violation (a pipelined command sent before the client could see an earlier refusal).
     */
    private boolean refuse(boolean broken, String reply, String line, boolean excused)
        throws IOException {
      if (!broken || !strict()) {
        return false;
      }
      if (!excused) {
        violations.add(reply + ": " + line);
      }
      reply(reply);
      return true;
    }

    private boolean greet(String verb, String argument) throws IOException {
      if (refuse(argument.isBlank(), "501 5.5.4 Syntax: " + verb + " hostname", verb)) {
        return true;
      }
      String reply = verb.equals("EHLO") ? next("EHLO", ehlo()) : next("HELO", "250 test.example");
      resetTransaction();
      greeted = reply.startsWith("250");
      extended = greeted && verb.equals("EHLO");
      return reply(reply);
    }

    private void resetTransaction() {
      mailTried = false;
      rcptTried = false;
      mailOpen = false;
      declared8Bit = false;
      accepted = 0;
    }

    private List<String> keywords() {
      if (tls && ehloKeywordsAfterTls != null) {
        return new ArrayList<>(ehloKeywordsAfterTls);
      }
      return new ArrayList<>(ehloKeywords);
    }

    /** Whether the last EHLO offered the extension (first word of a keyword line, or AUTH=). */
    private boolean offers(String extension) {
      return extended && parameters(extension) != null;
    }

    /** The words after an offered extension's keyword, or null when it is not offered. */
    private List<String> parameters(String extension) {
      if (extension.equals("STARTTLS")) {
        return startTls && !tls ? List.of() : null;
      }
      for (String keyword : keywords()) {
        List<String> words = List.of(keyword.trim().split("[\\s=]+"));
        if (words.get(0).equalsIgnoreCase(extension)) {
          return words.subList(1, words.size());
        }
      }
      return null;
    }

    private long sizeLimit() {
      List<String> size = offers("SIZE") ? parameters("SIZE") : null;
      return size == null || size.isEmpty() || size.get(0).equals("0")
          ? Long.MAX_VALUE
          : Long.parseLong(size.get(0));
    }

    private String ehlo() {
      List<String> keywords = keywords();
      if (startTls && !tls) {
        keywords.add("STARTTLS");
      }
      StringBuilder sb = new StringBuilder("250");
      sb.append(keywords.isEmpty() ? " " : "-").append("test.example");
      for (int i = 0; i < keywords.size(); i++) {
        sb.append("\r\n250").append(i == keywords.size() - 1 ? " " : "-").append(keywords.get(i));
      }
      return sb.toString();
    }

    private boolean startTls() throws IOException {
      if (refuse(!greeted, "503 5.5.1 Send EHLO first", "STARTTLS")
          || refuse(!offers("STARTTLS"), "502 5.5.1 STARTTLS not offered", "STARTTLS")
          || refuse(mailOpen, "503 5.5.1 STARTTLS inside a mail transaction", "STARTTLS")) {
        return true;
      }
      String reply = next("STARTTLS", "220 2.0.0 Ready to start TLS");
      if (!reply.startsWith("220")) {
        return reply(reply);
      }
      out.write((reply + "\r\n" + injectAfterStartTls).getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      upgrade();
      greeted = false;
      extended = false;
      authenticated = false;
      resetTransaction();
      return true;
    }

    /**
     * AUTH PLAIN, LOGIN or XOAUTH2: the challenges, then a scripted final reply or the verdict on
     * the credentials. A 334 final reply (an XOAUTH2 error) is followed by reading the client's
     * empty line and a 535.
     */
    private boolean auth(String argument) throws IOException {
      String[] parts = argument.split(" ", 2);
      String mechanism = parts[0].toUpperCase(Locale.ROOT);
      String initial = parts.length > 1 ? parts[1] : null;
      List<String> offered = parameters("AUTH");
      if (refuse(!greeted || !extended, "503 5.5.1 Send EHLO first", "AUTH")
          || refuse(offered == null, "503 5.5.1 AUTH not offered", "AUTH")
          || refuse(authenticated, "503 5.5.1 Already authenticated", "AUTH")
          || refuse(mailOpen, "503 5.5.1 AUTH inside a mail transaction", "AUTH")
          || refuse(
              offered != null && offered.stream().noneMatch(mechanism::equalsIgnoreCase),
              "504 5.5.4 Mechanism " + mechanism + " not offered",
              "AUTH")) {
        return true;
      }
      List<String> responses = new ArrayList<>();
      if (mechanism.equals("LOGIN")) {
        List<String> challenges =
            initial == null
                ? List.of("334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6")
                : List.of("334 UGFzc3dvcmQ6");
        if (initial != null) {
          responses.add(initial);
        }
        for (String challenge : challenges) {
          String response = challenge(challenge);
          if (response == null) {
            return false;
          }
          responses.add(response);
        }
      } else if (initial == null) {
        String response = challenge("334 ");
        if (response == null) {
          return false;
        }
        responses.add(response);
      } else {
        responses.add(initial);
      }
      String scripted = next("AUTH", null);
      String reply = scripted != null ? scripted : verdict(mechanism, responses);
      if (!reply(reply)) {
        return false;
      }
      if (reply.startsWith("334")) {
        String response = readAuthLine();
        if (response == null) {
          return false;
        }
        return reply("535 5.7.8 Authentication credentials invalid");
      }
      authenticated = reply.startsWith("235");
      return true;
    }

    private String challenge(String challenge) throws IOException {
      if (!reply(challenge)) {
        return null;
      }
      return readAuthLine();
    }

    private String readAuthLine() throws IOException {
      byte[] raw = readRawLine();
      if (raw == null) {
        return null;
      }
      String response = text(raw);
      commands.add(response);
      String problem = lineProblem(raw, MAX_AUTH_LINE);
      if (problem != null && strict()) {
        violations.add(problem + " in an AUTH response");
      }
      return response;
    }

    /** 235 when the responses carry the configured credentials, otherwise why not. */
    private String verdict(String mechanism, List<String> responses) {
      if (!strict()) {
        return "235 2.7.0 Authentication successful";
      }
      if (user == null) {
        violations.add("AUTH sent to a server with no credentials configured");
        return "535 5.7.8 No account on this test server (call credentials())";
      }
      List<String> decoded = new ArrayList<>();
      for (String response : responses) {
        if (response.equals("*")) {
          return "501 5.7.0 Authentication cancelled";
        }
        try {
          decoded.add(new String(Base64.getDecoder().decode(response), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
          violations.add("AUTH response is not base64");
          return "501 5.5.2 Cannot decode response";
        }
      }
      boolean good =
          switch (mechanism) {
            case "PLAIN" ->
                decoded.get(0).equals("\0" + user + "\0" + secret)
                    || decoded.get(0).equals(user + "\0" + user + "\0" + secret);
            case "LOGIN" ->
                decoded.size() == 2 && decoded.get(0).equals(user) && decoded.get(1).equals(secret);
            case "XOAUTH2" ->
                decoded
                    .get(0)
                    .equals("user=" + user + "\u0001auth=Bearer " + secret + "\u0001\u0001");
            default -> false;
          };
      return good
          ? "235 2.7.0 Authentication successful"
          : "535 5.7.8 Authentication credentials invalid";
    }

    private boolean mail(String line) throws IOException {
      if (refuse(!greeted, "503 5.5.1 Send EHLO or HELO first", line)
          || refuse(mailOpen, "503 5.5.1 Nested MAIL command", line)
          || refuse(user != null && !authenticated, "530 5.7.0 Authentication required", line)) {
        return true;
      }
      Path path = Path.parse(line, "MAIL FROM:");
      if (refuse(path == null, "501 5.5.4 Syntax: MAIL FROM:<address>", line)) {
        return true;
      }
      boolean utf8 = false;
      boolean eightBit = false;
      if (path != null) {
        for (String parameter : path.parameters) {
          String name = parameter.split("=", 2)[0].toUpperCase(Locale.ROOT);
          String value =
              parameter.contains("=") ? parameter.substring(parameter.indexOf('=') + 1) : "";
          String extension =
              switch (name) {
                case "SIZE" -> "SIZE";
                case "BODY" -> value.equalsIgnoreCase("7BIT") ? "" : "8BITMIME";
                case "SMTPUTF8" -> "SMTPUTF8";
                case "RET", "ENVID" -> "DSN";
                case "AUTH" -> "AUTH";
                default -> null;
              };
          if (refuse(
              extension == null || (!extension.isEmpty() && !offers(extension)),
              "555 5.5.4 Unsupported parameter " + parameter,
              line)) {
            return true;
          }
          if (name.equals("BODY")
              && refuse(
                  !value.equalsIgnoreCase("7BIT") && !value.equalsIgnoreCase("8BITMIME"),
                  "501 5.5.4 Bad BODY value " + value,
                  line)) {
            return true;
          }
          if (name.equals("SIZE")
              && refuse(!value.matches("[0-9]{1,20}"), "501 5.5.4 Bad SIZE value", line)) {
            return true;
          }
          if (name.equals("SIZE")
              && refuse(
                  value.matches("[0-9]{1,18}") && Long.parseLong(value) > sizeLimit(),
                  "552 5.3.4 Message size exceeds fixed limit",
                  line)) {
            return true;
          }
          utf8 |= name.equals("SMTPUTF8");
          eightBit |= name.equals("BODY") && value.equalsIgnoreCase("8BITMIME");
        }
        if (refuse(
            !utf8 && !isAscii(path.address),
            "553 5.6.7 Non-ASCII address without SMTPUTF8",
            line)) {
          return true;
        }
      }
      mailTried = true;
      String reply = next("MAIL", "250 2.1.0 Ok");
      if (reply.startsWith("2")) {
        mailOpen = true;
        declared8Bit = eightBit || utf8;
        smtpUtf8 = utf8;
      }
      return reply(reply);
    }

    private boolean rcpt(String line) throws IOException {
      boolean pipelined = offers("PIPELINING") && mailTried;
      if (refuse(!mailOpen, "503 5.5.1 Need MAIL before RCPT", line, pipelined)) {
        return true;
      }
      rcptTried = true;
      Path path = Path.parse(line, "RCPT TO:");
      if (refuse(
          path == null || path.address.isEmpty(), "501 5.5.4 Syntax: RCPT TO:<address>", line)) {
        return true;
      }
      if (path != null) {
        for (String parameter : path.parameters) {
          String name = parameter.split("=", 2)[0].toUpperCase(Locale.ROOT);
          if (refuse(
              !(name.equals("NOTIFY") || name.equals("ORCPT")) || !offers("DSN"),
              "555 5.5.4 Unsupported parameter " + parameter,
              line)) {
            return true;
          }
        }
        if (refuse(
            !smtpUtf8 && !isAscii(path.address),
            "553 5.6.7 Non-ASCII address without SMTPUTF8",
            line)) {
          return true;
        }
      }
      if (strict() && accepted >= maxRecipients) {
        return reply("452 4.5.3 Too many recipients");
      }
      String reply = next("RCPT", "250 2.1.5 Ok");
      if (reply.startsWith("2")) {
        accepted++;
      }
      return reply(reply);
    }

    private boolean data(String argument) throws IOException {
      boolean pipelined = offers("PIPELINING") && (mailTried && !mailOpen || rcptTried);
      if (refuse(!argument.isEmpty(), "501 5.5.4 DATA takes no argument", "DATA " + argument)
          || refuse(!mailOpen, "503 5.5.1 Need MAIL before DATA", "DATA", pipelined)
          || refuse(accepted == 0, "554 5.5.1 No valid recipients", "DATA", pipelined)) {
        return true;
      }
      String reply = next("DATA", "354 End data with <CR><LF>.<CR><LF>");
      if (reply.equals(UNREAD_AFTER_354)) {
        reply("354 go ahead");
        try {
          released.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return false;
      }
      if (reply.equals(DROP_AFTER_354)) {
        reply("354 go ahead");
        closeSocket();
        return false;
      }
      if (!reply(reply)) {
        return false;
      }
      if (!reply.startsWith("354")) {
        return true;
      }
      ByteArrayOutputStream message = new ByteArrayOutputStream();
      String problem = null;
      while (true) {
        byte[] line = readRawLine();
        if (line == null) {
          return false;
        }
        if (line.length == 3 && line[0] == '.' && line[1] == '\r' && line[2] == '\n') {
          break;
        }
        if (problem == null) {
          problem = dataProblem(line, message.size());
        }
        message.write(line);
      }
      messages.add(message.toByteArray());
      if (problem == null && pos < buf.length && !offers("PIPELINING")) {
        problem = "pipelining without PIPELINING (after the final dot)";
      }
      if (problem == null && message.size() > sizeLimit()) {
        problem = "message of " + message.size() + " octets over SIZE " + sizeLimit();
      }
      resetTransaction();
      if (problem != null && strict()) {
        violations.add(problem);
        return reply(
            problem.startsWith("message of")
                ? "552 5.3.4 Message size exceeds fixed limit"
                : "554 5.6.0 " + problem);
      }
      return reply(next("DATA_END", "250 2.0.0 Ok: queued"));
    }

    /** Why a line of message data breaks RFC 5321/6152, or null. */
    private String dataProblem(byte[] line, int offset) {
      int n = line.length;
      if (n < 2 || line[n - 2] != '\r') {
        return "bare LF in the message at octet " + (offset + n - 1);
      }
      if (n > MAX_TEXT_LINE) {
        return "message line of " + n + " octets with CRLF (at most " + MAX_TEXT_LINE + ")";
      }
      for (int i = 0; i < n - 2; i++) {
        if (line[i] == '\r') {
          return "bare CR in the message at octet " + (offset + i);
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

    private static String text(byte[] raw) {
      int end = raw.length;
      while (end > 0 && (raw[end - 1] == '\n' || raw[end - 1] == '\r')) {
        end--;
      }
      return new String(raw, 0, end, StandardCharsets.UTF_8);
    }

    private static String verb(String line) {
      int space = line.indexOf(' ');
      return (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
    }

    /** Sends a scripted reply; false when the script dropped the connection. */
    private boolean reply(String reply) throws IOException {
      switch (reply) {
        case DROP -> {
          closeSocket();
          return false;
        }
        case STALL -> {
          stall();
          return false;
        }
        case TRICKLE -> {
          trickle();
          return false;
        }
        default -> {
          out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
          out.flush();
          return true;
        }
      }
    }

    /** Keeps reading (and recording) without answering until the client leaves. */
    private void stall() throws IOException {
      Thread.ofVirtual()
          .start(() -> {
            try {
              released.await();
            } catch (InterruptedException ignored) {
              Thread.currentThread().interrupt();
            }
            closeSocket();
          });
      while (readChunk()) {
        // recording only
      }
    }

    private void trickle() throws IOException {
      byte[] text = "250-still thinking\r\n".getBytes(StandardCharsets.US_ASCII);
      try {
        for (int i = 0; ; i = (i + 1) % text.length) {
          out.write(text[i]);
          out.flush();
          Thread.sleep(trickleMillis);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void attach(Socket s) throws IOException {
      socket = s;
      in = s.getInputStream();
      out = s.getOutputStream();
    }

    private void upgrade() throws IOException {
      SSLSocket tlsSocket =
          (SSLSocket)
              TestCertificate.get()
                  .serverContext()
                  .getSocketFactory()
                  .createSocket(socket, null, socket.getPort(), true);
      tlsSocket.setUseClientMode(false);
      tlsSocket.startHandshake();
      attach(tlsSocket);
      tls = true;
      buf = new byte[0];
      pos = 0;
    }

    /** One line including its LF (and CR, if any); null at end of stream. */
    private byte[] readRawLine() throws IOException {
      while (true) {
        for (int i = pos; i < buf.length; i++) {
          if (buf[i] == '\n') {
            byte[] line = Arrays.copyOfRange(buf, pos, i + 1);
            pos = i + 1;
            return line;
          }
        }
        if (!readChunk()) {
          return null;
        }
      }
    }

    private boolean readChunk() throws IOException {
      byte[] tmp = new byte[65536];
      int n;
      try {
        n = in.read(tmp);
      } catch (IOException e) {
        return false;
      }
      if (n < 0) {
        return false;
      }
      byte[] chunk = Arrays.copyOf(tmp, n);
      chunks.add(chunk);
      synchronized (this) {
        received.write(chunk, 0, n);
      }
      byte[] joined = new byte[buf.length - pos + n];
      System.arraycopy(buf, pos, joined, 0, buf.length - pos);
      System.arraycopy(chunk, 0, joined, buf.length - pos, n);
      buf = joined;
      pos = 0;
      return true;
    }
  }

  /** The address and parameters of a MAIL FROM or RCPT TO line, or null when malformed. */
  private record Path(String address, List<String> parameters) {
    static Path parse(String line, String prefix) {
      if (!line.regionMatches(true, 0, prefix, 0, prefix.length())) {
        return null;
      }
      String rest = line.substring(prefix.length());
      if (!rest.startsWith("<") || rest.indexOf('>') < 0) {
        return null;
      }
      String address = rest.substring(1, rest.indexOf('>'));
      String tail = rest.substring(rest.indexOf('>') + 1);
      if (!tail.isEmpty() && !tail.startsWith(" ")) {
        return null;
      }
      List<String> parameters = tail.isBlank() ? List.of() : List.of(tail.strip().split(" +"));
      return new Path(address, parameters);
    }
  }
}
