package dev.postroom.smtp;

import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Messages per second over one reused session to a fast local sink: Postfix's {@code smtp-sink}
 * when installed, else the scripted test server. Not a test: run its {@code main} by hand ({@code
 * java -cp target/test-classes:target/classes:<deps> dev.postroom.smtp.SmtpClientBenchmark
 * [messages]}).
 */
public final class SmtpClientBenchmark {
  private static final Path SMTP_SINK = Path.of("/usr/sbin/smtp-sink");

  private SmtpClientBenchmark() {}

  public static void main(String[] args) throws Exception {
    int messages = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    MessageContent content = message();
    if (Files.isExecutable(SMTP_SINK)) {
      int port = freePort();
      Process sink =
          new ProcessBuilder(SMTP_SINK.toString(), "-u", "postfix", "127.0.0.1:" + port, "1000")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      try {
        awaitListening(port);
        run("smtp-sink", new SmtpEndpoint("127.0.0.1", port, TlsMode.NONE), messages, content);
      } finally {
        sink.destroy();
        sink.waitFor();
      }
    } else {
      try (ScriptedSmtpServer server = new ScriptedSmtpServer()) {
        run("scripted server", Smtp.plain(server), messages, content);
      }
    }
  }

  private static void run(String sinkName, SmtpEndpoint endpoint, int messages, MessageContent m) {
    SmtpSettings settings =
        SmtpSettings.defaults("bench.example")
            .withTimeouts(Timeouts.uniform(Duration.ofSeconds(30)));
    Envelope envelope = new Envelope("bench@example.com", List.of("sink@example.org"));
    try (SmtpConnection c = SmtpConnection.open(endpoint, settings)) {
      send(c, envelope, m, messages / 10);
      long start = System.nanoTime();
      send(c, envelope, m, messages);
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          "%s, pipelining=%s, %d-octet message: %d messages in %.2f s = %.0f messages/s over one"
              + " connection%n",
          sinkName, c.capabilities().pipelining(), m.size(), messages, seconds, messages / seconds);
    }
  }

  private static void send(SmtpConnection c, Envelope e, MessageContent m, int count) {
    for (int i = 0; i < count; i++) {
      TransactionResult result = c.send(e, m);
      if (!result.allDelivered()) {
        throw new IllegalStateException("message " + i + " not delivered: " + result);
      }
    }
  }

  private static MessageContent message() {
    StringBuilder sb =
        new StringBuilder(
            "From: bench@example.com\r\nTo: sink@example.org\r\nSubject: benchmark\r\n"
                + "Message-ID: <bench@example.com>\r\n\r\n");
    while (sb.length() < 1000) {
      sb.append("The quick brown fox jumps over the lazy dog.\r\n");
    }
    return MessageContent.of(sb.toString().getBytes(StandardCharsets.US_ASCII));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void awaitListening(int port) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException("smtp-sink did not start on port " + port);
  }
}
