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
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private final List<String> commands = new CopyOnWriteArrayList<>();
    private final List<byte[]> chunks = new CopyOnWriteArrayList<>();
    private final List<byte[]> messages = new CopyOnWriteArrayList<>();
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile Socket socket;
    private volatile boolean tls;
    private InputStream in;
    private OutputStream out;
    private byte[] buf = new byte[0];
    private int pos;

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
          String line = readLine();
          if (line == null) {
            return;
          }
          commands.add(line);
          if (!handle(line)) {
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

    /** Answers one command; false when the session is over. */
    private boolean handle(String line) throws IOException {
      String verb = (line.contains(" ") ? line.substring(0, line.indexOf(' ')) : line);
      verb = verb.toUpperCase(Locale.ROOT);
      return switch (verb) {
        case "EHLO" -> reply(next("EHLO", ehlo()));
        case "HELO" -> reply(next("HELO", "250 test.example"));
        case "STARTTLS" -> startTls();
        case "AUTH" -> auth(line);
        case "MAIL" -> reply(next("MAIL", "250 2.1.0 Ok"));
        case "RCPT" -> reply(next("RCPT", "250 2.1.5 Ok"));
        case "DATA" -> data();
        case "RSET" -> reply(next("RSET", "250 2.0.0 Ok"));
        case "NOOP" -> reply(next("NOOP", "250 2.0.0 Ok"));
        case "VRFY" -> reply(next("VRFY", "252 2.0.0 Cannot VRFY user"));
        case "EXPN" -> reply(next("EXPN", "502 5.5.1 EXPN not available"));
        case "HELP" -> reply(next("HELP", "214 2.0.0 See RFC 5321"));
        case "QUIT" -> {
          reply(next("QUIT", "221 2.0.0 Bye"));
          yield false;
        }
        default -> reply(next(verb, "334 "));
      };
    }

    private String ehlo() {
      List<String> keywords = new ArrayList<>(ehloKeywords);
      if (tls && ehloKeywordsAfterTls != null) {
        keywords = new ArrayList<>(ehloKeywordsAfterTls);
      }
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
      String reply = next("STARTTLS", "220 2.0.0 Ready to start TLS");
      if (!reply.startsWith("220")) {
        return reply(reply);
      }
      out.write((reply + "\r\n" + injectAfterStartTls).getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      upgrade();
      return true;
    }

    /**
     * AUTH LOGIN gets the two usual challenges first; then the scripted or default final reply. A
     * scripted 334 (an XOAUTH2 error) is followed by reading the client's empty line and a 535.
     */
    private boolean auth(String line) throws IOException {
      if (line.toUpperCase(Locale.ROOT).equals("AUTH LOGIN")) {
        for (String challenge : List.of("334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6")) {
          reply(challenge);
          String response = readLine();
          if (response == null) {
            return false;
          }
          commands.add(response);
        }
      }
      String reply = next("AUTH", "235 2.7.0 Authentication successful");
      if (!reply(reply)) {
        return false;
      }
      if (reply.startsWith("334")) {
        String response = readLine();
        if (response == null) {
          return false;
        }
        commands.add(response);
        return reply("535 5.7.8 Authentication credentials invalid");
      }
      return true;
    }

    private boolean data() throws IOException {
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
      while (true) {
        byte[] line = readRawLine();
        if (line == null) {
          return false;
        }
        if (line.length == 3 && line[0] == '.' && line[1] == '\r' && line[2] == '\n') {
          break;
        }
        message.write(line);
      }
      messages.add(message.toByteArray());
      return reply(next("DATA_END", "250 2.0.0 Ok: queued"));
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

    private String readLine() throws IOException {
      byte[] line = readRawLine();
      if (line == null) {
        return null;
      }
      int end = line.length;
      while (end > 0 && (line[end - 1] == '\n' || line[end - 1] == '\r')) {
        end--;
      }
      return new String(line, 0, end, StandardCharsets.UTF_8);
    }

    /** One line including its LF (and CR, if any); null at end of stream. */
    private byte[] readRawLine() throws IOException {
      while (true) {
        for (int i = pos; i < buf.length; i++) {
          if (buf[i] == '\n') {
            byte[] line = java.util.Arrays.copyOfRange(buf, pos, i + 1);
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
      byte[] chunk = java.util.Arrays.copyOf(tmp, n);
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
}
