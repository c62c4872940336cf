package dev.postroom.cli;

import dev.postroom.smtp.AuthMechanism;
import dev.postroom.smtp.Capabilities;
import dev.postroom.smtp.Credentials;
import dev.postroom.smtp.HeloName;
import dev.postroom.smtp.SmtpConnection;
import dev.postroom.smtp.SmtpEndpoint;
import dev.postroom.smtp.SmtpException;
import dev.postroom.smtp.SmtpSettings;
import dev.postroom.smtp.TlsMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "test",
    mixinStandardHelpOptions = true,
    description = {
      "Check an account without sending: connect, EHLO, STARTTLS or implicit TLS, AUTH; report",
      "the server's capabilities, the TLS protocol and the certificate subject.",
      "With --send-to, also enqueue a test mail through a profile that uses the account."
    })
final class AccountTestCommand implements Callable<Integer> {
  private final CliContext ctx;
  @Mixin GlobalOptions global;

  @Parameters(paramLabel = "NAME", description = "The account's name.")
  String name;

  @Option(
      names = "--send-to",
      paramLabel = "ADDRESS",
      description = "Also send a test mail to this address, through the outbox.")
  String sendTo;

  AccountTestCommand(CliContext ctx) {
    this.ctx = ctx;
    this.global = new GlobalOptions(ctx);
  }

  private record Account(
      String host,
      int port,
      String tls,
      boolean tlsVerify,
      String tlsCaPem,
      String username,
      String password,
      String auth,
      String heloName,
      String delivery,
      String profile) {}

  @Override
  public Integer call() throws SQLException {
    ctx.logging();
    try (Connection c = ctx.database().connect()) {
      Account account = load(c);
      if ("mx".equals(account.delivery())) {
        throw new CliFailure(
            "account "
                + name
                + " delivers directly to the recipients' MX hosts; there is no relay"
                + " to test");
      }
      TlsMode mode = TlsMode.valueOf(account.tls().toUpperCase(Locale.ROOT));
      SmtpEndpoint endpoint = new SmtpEndpoint(account.host(), account.port(), mode);
      ctx.out.printf("Testing account %s: %s (tls %s)%n", name, endpoint, account.tls());
      try (SmtpConnection smtp = SmtpConnection.open(endpoint, settings(account))) {
        line("connected", smtp.remoteHost());
        line("EHLO", capabilities(smtp.capabilities()));
        line(
            "TLS",
            smtp.tlsProtocol()
                .map(p -> p + ", certificate " + smtp.peerCertificateSubject().orElse("-"))
                .orElse("none (plaintext)"));
        line(
            "AUTH",
            account.username() == null ? "not configured" : "accepted for " + account.username());
      } catch (SmtpException e) {
        throw new CliFailure(
            "account "
                + name
                + ": "
                + e.stage().toString().toLowerCase(Locale.ROOT)
                + " failed: "
                + e.getMessage());
      }
      ctx.out.println(
          "OK: the account connects" + (account.username() == null ? "" : " and logs in") + ".");
      if (sendTo != null) {
        sendTestMail(c, account);
      }
    }
    return Main.OK;
  }

  private Account load(Connection c) throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            """
            SELECT a.host, a.port, a.tls, a.tls_verify, a.tls_ca_pem, a.username, a.password,
                   a.auth, a.helo_name, a.delivery,
                   (SELECT p.name FROM mail.profile_account pa JOIN mail.profile p ON p.id = pa.profile_id
                     WHERE pa.account_id = a.id ORDER BY pa.sequence, p.name LIMIT 1) AS profile
              FROM mail.account a WHERE a.name = ?
            """)) {
      st.setString(1, name);
      try (ResultSet rs = st.executeQuery()) {
        if (!rs.next()) {
          throw new CliFailure("no account named " + name + " (see: postroom account list)");
        }
        return new Account(
            rs.getString("host"),
            rs.getInt("port"),
            rs.getString("tls"),
            rs.getBoolean("tls_verify"),
            rs.getString("tls_ca_pem"),
            rs.getString("username"),
            rs.getString("password"),
            rs.getString("auth"),
            rs.getString("helo_name"),
            rs.getString("delivery"),
            rs.getString("profile"));
      }
    }
  }

  private void sendTestMail(Connection c, Account account) throws SQLException {
    if (account.profile() == null) {
      throw new CliFailure(
          "account "
              + name
              + " is in no profile, so no mail can be sent through it; add it with"
              + " mail.add_profile_account or: postroom account add … --profile NAME");
    }
    long id =
        SendRequest.simple(
                sendTo,
                "Postroom test mail (account " + name + ")",
                "This is a test mail sent through Postroom's outbox, profile "
                    + account.profile()
                    + ", account "
                    + name
                    + ".\n",
                account.profile())
            .send(c);
    ctx.out.printf(
        "Test mail %d enqueued through profile %s; a running dispatcher delivers it"
            + " (follow it with: postroom status %d)%n",
        id, account.profile(), id);
  }

  private static SmtpSettings settings(Account account) {
    SmtpSettings settings =
        SmtpSettings.defaults(
                account.heloName() != null ? account.heloName() : HeloName.ofThisHost())
            .withTlsVerify(account.tlsVerify())
            .withTrustedCaPem(account.tlsCaPem());
    if (account.username() != null) {
      AuthMechanism mechanism =
          account.auth() == null
              ? null
              : AuthMechanism.valueOf(account.auth().toUpperCase(Locale.ROOT));
      settings =
          settings.withCredentials(
              new Credentials(
                  account.username(),
                  account.password() == null ? "" : account.password(),
                  mechanism));
    }
    return settings;
  }

  private static String capabilities(Capabilities capabilities) {
    if (!capabilities.esmtp()) {
      return "HELO only (no ESMTP extensions)";
    }
    return capabilities.keywords().entrySet().stream()
        .map(AccountTestCommand::keyword)
        .collect(Collectors.joining(", "));
  }

  private static String keyword(Map.Entry<String, String> e) {
    return e.getValue() == null || e.getValue().isBlank()
        ? e.getKey()
        : e.getKey() + " " + e.getValue();
  }

  private void line(String label, String value) {
    ctx.out.printf("  %-10s %s%n", label, value);
  }
}
