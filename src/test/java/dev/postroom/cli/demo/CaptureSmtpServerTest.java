package dev.postroom.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CaptureSmtpServerTest {
  private CaptureSmtpServer server;
  private Socket socket;
  private BufferedReader in;
  private OutputStream out;

  @BeforeEach
  void connect() throws Exception {
    server =
        CaptureSmtpServer.start(
            Map.of(
                "Nobody@Example.com", "550 5.1.1 <nobody@example.com>: User unknown",
                "later@example.net", "451 4.7.1 Greylisted, try again later"));
    socket = new Socket(server.host(), server.port());
    socket.setSoTimeout(5000);
    in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    out = socket.getOutputStream();
    assertThat(in.readLine()).startsWith("220 ");
  }

  @AfterEach
  void close() throws Exception {
    socket.close();
    server.close();
  }

  /** Sends the lines in one write (pipelined) and reads one reply per command, each complete. */
  private List<String> send(String... lines) throws Exception {
    out.write((String.join("\r\n", lines) + "\r\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
    List<String> replies = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      String line;
      StringBuilder reply = new StringBuilder();
      do {
        line = in.readLine();
        reply.append(reply.isEmpty() ? "" : "\n").append(line);
      } while (line.charAt(3) == '-');
      replies.add(reply.toString());
    }
    return replies;
  }

  @Test
  void itAcceptsAPipelinedTransactionAndKeepsTheMessageWithoutDotStuffing() throws Exception {
    assertThat(send("EHLO client.example").get(0))
        .contains("250-PIPELINING")
        .contains("250-ENHANCEDSTATUSCODES")
        .endsWith("250 HELP");

    List<String> replies =
        send(
            "MAIL FROM:<sender@example.com> BODY=8BITMIME SIZE=120",
            "RCPT TO:<ann@example.com>",
            "RCPT TO:<nobody@example.com>",
            "RCPT TO:<later@example.net>",
            "DATA");

    assertThat(replies)
        .containsExactly(
            "250 2.1.0 Ok",
            "250 2.1.5 Ok",
            "550 5.1.1 <nobody@example.com>: User unknown",
            "451 4.7.1 Greylisted, try again later",
            "354 End data with <CR><LF>.<CR><LF>");
    out.write("Subject: hi\r\n\r\n..leading dot\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
    assertThat(in.readLine()).isEqualTo("250 2.0.0 Ok: queued as 1");
    assertThat(server.messages())
        .singleElement()
        .satisfies(m -> {
          assertThat(m.reversePath()).isEqualTo("sender@example.com");
          assertThat(m.forwardPaths()).containsExactly("ann@example.com");
          assertThat(m.content()).isEqualTo("Subject: hi\r\n\r\n.leading dot\r\n");
        });
  }

  @Test
  void commandsOutOfOrderAreRefusedWith503() throws Exception {
    assertThat(send("MAIL FROM:<a@example.com>"))
        .containsExactly("503 5.5.1 Send EHLO or HELO first");
    send("EHLO client.example");
    assertThat(send("RCPT TO:<b@example.com>", "DATA"))
        .containsExactly("503 5.5.1 Need MAIL before RCPT", "503 5.5.1 Need MAIL before DATA");
    assertThat(send("MAIL FROM:<>", "MAIL FROM:<a@example.com>", "DATA"))
        .containsExactly(
            "250 2.1.0 Ok", "503 5.5.1 Nested MAIL command", "554 5.5.1 No valid recipients");
  }

  @Test
  void rsetNoopUnknownAndQuitAnswerAsRfc5321Says() throws Exception {
    assertThat(send("EHLO c.example", "RSET", "NOOP", "FROB", "QUIT"))
        .last()
        .isEqualTo("221 2.0.0 Bye");
    assertThat(in.readLine()).isNull();
    assertThat(server.messages()).isEmpty();
  }

  @Test
  void aBareLineFeedAndUndeclared8BitDataAreRefusedAndListedAsViolations() throws Exception {
    assertThat(send("EHLO client.example").get(0)).startsWith("250-");
    out.write("MAIL FROM:<a@example.com>\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
    assertThat(in.readLine()).isEqualTo("500 5.5.2 Bare LF");
    assertThat(send("MAIL FROM:<a@example.com> NOTIFY=NEVER"))
        .containsExactly("555 5.5.4 Unsupported parameter NOTIFY");
    assertThat(send("MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>", "DATA"))
        .last()
        .asString()
        .startsWith("354");
    out.write("Subject: Gr\u00fc\u00dfe\r\n\r\nx\r\n.\r\n".getBytes(StandardCharsets.UTF_8));
    out.flush();
    assertThat(in.readLine()).startsWith("554 5.6.0 8-bit octet");
    assertThat(server.messages()).isEmpty();
    assertThat(server.violations()).hasSize(3);
  }

  @Test
  void withStartTlsAndAnAccountAuthNeedsTlsAndTheRightPassword() throws Exception {
    CaptureSmtpServer tls =
        CaptureSmtpServer.start(
            CaptureSmtpServer.options()
                .startTls(dev.postroom.smtp.testserver.TestCertificate.get().serverContext())
                .credentials("ann", "s3cret"));
    try (tls;
        Socket s = new Socket(tls.host(), tls.port())) {
      s.setSoTimeout(5000);
      in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      out = s.getOutputStream();
      in.readLine();
      assertThat(send("EHLO c.example").get(0)).contains("250-STARTTLS").contains("AUTH PLAIN");
      String plain = java.util.Base64.getEncoder().encodeToString("\0ann\0s3cret".getBytes());
      assertThat(send("AUTH PLAIN " + plain)).singleElement().asString().startsWith("538 ");
      assertThat(send("MAIL FROM:<a@example.com>")).singleElement().asString().startsWith("530 ");
      assertThat(send("STARTTLS")).containsExactly("220 2.0.0 Ready to start TLS");
      javax.net.ssl.SSLContext trustAll = javax.net.ssl.SSLContext.getInstance("TLS");
      trustAll.init(
          null,
          new javax.net.ssl.TrustManager[] {
            new javax.net.ssl.X509TrustManager() {
              @Override
              public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}

              @Override
              public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {}

              @Override
              public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
              }
            }
          },
          null);
      javax.net.ssl.SSLSocket secure =
          (javax.net.ssl.SSLSocket)
              trustAll.getSocketFactory().createSocket(s, tls.host(), tls.port(), true);
      secure.startHandshake();
      in =
          new BufferedReader(
              new InputStreamReader(secure.getInputStream(), StandardCharsets.UTF_8));
      out = secure.getOutputStream();
      assertThat(send("EHLO c.example").get(0)).doesNotContain("STARTTLS").contains("AUTH PLAIN");
      String wrong = java.util.Base64.getEncoder().encodeToString("\0ann\0guess".getBytes());
      assertThat(send("AUTH PLAIN " + wrong)).singleElement().asString().startsWith("535 ");
      assertThat(send("AUTH PLAIN " + plain)).singleElement().asString().startsWith("235 ");
      assertThat(send("MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>", "DATA"))
          .last()
          .asString()
          .startsWith("354");
      out.write("Subject: hi\r\n\r\nHello.\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(in.readLine()).startsWith("250 ");
      assertThat(tls.messages())
          .singleElement()
          .satisfies(m -> {
            assertThat(m.tls()).isTrue();
            assertThat(m.user()).isEqualTo("ann");
          });
    }
  }
}
