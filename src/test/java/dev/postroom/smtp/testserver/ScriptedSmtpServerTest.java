package dev.postroom.smtp.testserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The strict server refuses what a broken client would send; these tests play that broken client on
 * a raw socket, so a check that quietly stopped working in the server shows up here.
 */
class ScriptedSmtpServerTest {
  private ScriptedSmtpServer server;
  private Socket socket;
  private BufferedReader in;
  private OutputStream out;

  private void connect(ScriptedSmtpServer s) throws Exception {
    server = s;
    socket = new Socket("127.0.0.1", server.port());
    socket.setSoTimeout(5000);
    in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    out = socket.getOutputStream();
    assertThat(in.readLine()).startsWith("220 ");
  }

  @AfterEach
  void close() throws Exception {
    if (socket != null) {
      socket.close();
    }
    server.close();
  }

  /** Writes raw bytes and reads one complete reply per expected reply. */
  private List<String> exchange(String raw, int replies) throws Exception {
    out.write(raw.getBytes(StandardCharsets.UTF_8));
    out.flush();
    List<String> result = new ArrayList<>();
    for (int i = 0; i < replies; i++) {
      String line;
      StringBuilder reply = new StringBuilder();
      do {
        line = in.readLine();
        reply.append(reply.isEmpty() ? "" : "\n").append(line);
      } while (line.charAt(3) == '-');
      result.add(reply.toString());
    }
    return result;
  }

  private String say(String command) throws Exception {
    return exchange(command + "\r\n", 1).get(0);
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aBareLineFeedCommandIsRefusedAndNotExecuted() throws Exception {
    connect(new ScriptedSmtpServer());
    assertThat(exchange("EHLO client.example\n", 1)).containsExactly("500 5.5.2 bare LF");
    assertThat(say("MAIL FROM:<a@example.com>")).startsWith("503 ");
    assertThat(exchange("EHLO client.example\r\nMAIL FROM:<a@example.com>\r\n", 2))
        .as("EHLO must end a pipelined group")
        .allSatisfy(r -> assertThat(r).startsWith("503 "))
        .hasSize(2);
    assertThat(server.session().violations()).hasSize(4);
    assertThatThrownBy(server::assertNoViolations).hasMessageContaining("bare LF");
  }

  @Test
  void commandsOutOfOrderGet503AndAnUnknownCommand500() throws Exception {
    connect(new ScriptedSmtpServer());
    say("EHLO client.example");
    assertThat(say("RCPT TO:<b@example.com>")).startsWith("503 ");
    assertThat(say("DATA")).startsWith("503 ");
    assertThat(say("MAIL FROM:<a@example.com>")).startsWith("250 ");
    assertThat(say("MAIL FROM:<a@example.com>")).startsWith("503 ");
    assertThat(say("DATA")).startsWith("554 ");
    assertThat(say("XFROB")).startsWith("500 ");
    assertThat(server.session().violations()).hasSize(5);
  }

  @Test
  void linesOverTheLimitsAreRefused() throws Exception {
    connect(new ScriptedSmtpServer());
    say("EHLO client.example");
    String path = "a".repeat(512 - "MAIL FROM:<@example.com>\r\n".length());
    assertThat(say("MAIL FROM:<" + path + "@example.com>")).startsWith("250 ");
    say("RSET");
    assertThat(say("MAIL FROM:<" + path + "x@example.com>")).startsWith("500 5.5.2 line too long");
    assertThat(say("MAIL FROM:<a@example.com>")).startsWith("250 ");
    assertThat(say("RCPT TO:<b@example.com>")).startsWith("250 ");
    assertThat(say("DATA")).startsWith("354 ");
    String ok = "x".repeat(998) + "\r\n";
    String tooLong = "x".repeat(999) + "\r\n";
    assertThat(exchange(ok + tooLong + ".\r\n", 1).get(0)).startsWith("554 5.6.0 message line");
  }

  @Test
  void parametersOfExtensionsNotOfferedAreRefused() throws Exception {
    connect(new ScriptedSmtpServer().advertise("SIZE 100"));
    say("EHLO client.example");
    assertThat(say("MAIL FROM:<a@example.com> BODY=8BITMIME")).startsWith("555 ");
    assertThat(say("MAIL FROM:<a@example.com> SMTPUTF8")).startsWith("555 ");
    assertThat(say("MAIL FROM:<a@example.com> RET=HDRS")).startsWith("555 ");
    assertThat(say("MAIL FROM:<a@example.com> SIZE=101")).startsWith("552 ");
    assertThat(say("MAIL FROM:<jürgen@example.com>")).startsWith("553 5.6.7");
    assertThat(say("MAIL FROM:<a@example.com> SIZE=100")).startsWith("250 ");
    assertThat(say("RCPT TO:<b@example.com> NOTIFY=NEVER")).startsWith("555 ");
    assertThat(say("RCPT TO:<b@example.com>")).startsWith("250 ");
    assertThat(say("DATA")).startsWith("354 ");
    assertThat(exchange("Gr\u00fc\u00dfe\r\n.\r\n", 1).get(0)).startsWith("554 5.6.0 8-bit");
    assertThat(say("MAIL FROM:<a@example.com>")).startsWith("250 ");
    say("RCPT TO:<b@example.com>");
    say("DATA");
    assertThat(exchange("x".repeat(99) + "\r\n.\r\n", 1).get(0)).startsWith("552 ");
  }

  @Test
  void pipeliningWithoutPipeliningIsRefused() throws Exception {
    connect(new ScriptedSmtpServer().advertise("8BITMIME"));
    say("EHLO client.example");
    List<String> replies = exchange("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n", 2);
    assertThat(replies.get(0)).startsWith("503 5.5.0 pipelining without PIPELINING");
  }

  @Test
  void authChecksTheCredentialsAndMailNeedsAuth() throws Exception {
    connect(new ScriptedSmtpServer().advertise("AUTH PLAIN LOGIN").credentials("u", "pw"));
    say("EHLO client.example");
    assertThat(say("MAIL FROM:<a@example.com>")).startsWith("530 ");
    assertThat(say("AUTH CRAM-MD5")).startsWith("504 ");
    assertThat(say("AUTH PLAIN " + b64("\0u\0wrong"))).startsWith("535 ");
    assertThat(say("AUTH LOGIN")).isEqualTo("334 VXNlcm5hbWU6");
    assertThat(say(b64("u"))).isEqualTo("334 UGFzc3dvcmQ6");
    assertThat(say(b64("pw"))).startsWith("235 ");
    assertThat(say("AUTH PLAIN " + b64("\0u\0pw"))).startsWith("503 ");
    assertThat(say("MAIL FROM:<a@example.com>")).startsWith("250 ");
  }

  @Test
  void tooManyRecipientsGet452() throws Exception {
    connect(new ScriptedSmtpServer().maxRecipients(1));
    say("EHLO client.example");
    say("MAIL FROM:<a@example.com>");
    assertThat(say("RCPT TO:<b@example.com>")).startsWith("250 ");
    assertThat(say("RCPT TO:<c@example.com>")).startsWith("452 4.5.3");
  }

  @Test
  void aLenientServerNeedsAReasonAndThenTakesAnything() throws Exception {
    assertThatThrownBy(() -> new ScriptedSmtpServer().lenient(" ").close())
        .isInstanceOf(IllegalArgumentException.class);
    connect(new ScriptedSmtpServer().lenient("this test checks the lenient mode itself"));
    assertThat(exchange("RCPT TO:<b@example.com>\n", 1).get(0)).startsWith("250 ");
    assertThat(server.session().violations()).isEmpty();
  }
}
