package dev.postroom.cli;

import dev.postroom.mime.MailAddress;
import dev.postroom.mime.MailMessage;
import dev.postroom.mime.MessageComposer;
import dev.postroom.mx.MxHost;
import dev.postroom.mx.MxResolver;
import dev.postroom.mx.MxRoute;
import dev.postroom.mx.MxSettings;
import dev.postroom.smtp.AuthMechanism;
import dev.postroom.smtp.Capabilities;
import dev.postroom.smtp.Credentials;
import dev.postroom.smtp.Envelope;
import dev.postroom.smtp.HeloName;
import dev.postroom.smtp.MessageContent;
import dev.postroom.smtp.RecipientOutcome;
import dev.postroom.smtp.Reply;
import dev.postroom.smtp.SmtpConnection;
import dev.postroom.smtp.SmtpEndpoint;
import dev.postroom.smtp.SmtpException;
import dev.postroom.smtp.SmtpSettings;
import dev.postroom.smtp.Stage;
import dev.postroom.smtp.TlsMode;
import dev.postroom.smtp.TransactionResult;
import java.net.InetAddress;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
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
      "Check an account: connect, EHLO, STARTTLS or implicit TLS, AUTH, printing the dialogue;",
      "report the server's capabilities, the TLS protocol and the certificate subject.",
      "With --send-to, also send one test mail directly through this account (not through the",
      "queue) and print the server's reply to the end of data: exit 0 on 2xx, 1 otherwise.",
      "An MX account is tested against the MX host of --domain (or of the --send-to address)."
    })
final class AccountTestCommand implements Callable<Integer> {
  private final CliContext ctx;
  @Mixin GlobalOptions global;

  @Parameters(paramLabel = "NAME", description = "The account's name.")
  String name;

  @Option(
      names = "--send-to",
      paramLabel = "ADDRESS",
      description = "Also send a test mail to this address, directly through the account.")
  String sendTo;

  @Option(
      names = "--domain",
      paramLabel = "DOMAIN",
      description = "For an MX account: the recipient domain whose MX host to test.")
  String domain;

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
      String fromAddress,
      String displayName,
      String heloName,
      String delivery,
      String dnsServers,
      int mxPort) {}

  @Override
  public Integer call() throws SQLException {
    ctx.logging();
    Account account;
    try (Connection c = ctx.database().connect()) {
      account = load(c);
    }
    SmtpEndpoint endpoint = endpoint(account);
    ctx.out.printf("Testing account %s: %s%n", name, endpoint);
    try (WireTranscript transcript = WireTranscript.to(ctx.out);
        SmtpConnection smtp = open(endpoint, account)) {
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
      ctx.out.println(
          "OK: the account connects" + (account.username() == null ? "" : " and logs in") + ".");
      return sendTo == null ? Main.OK : sendTestMail(smtp, account);
    }
  }

  private SmtpConnection open(SmtpEndpoint endpoint, Account account) {
    try {
      return SmtpConnection.open(endpoint, settings(account));
    } catch (SmtpException e) {
      throw new CliFailure(
          "account "
              + name
              + ": "
              + e.stage().toString().toLowerCase(Locale.ROOT)
              + " failed: "
              + (e.reply() == null ? e.getMessage() : e.reply().toString())
              + advice(e, account));
    }
  }

  /** What the operator can do about a failure that is theirs to fix. */
  private String advice(SmtpException e, Account account) {
    if (e.kind() == SmtpException.Kind.TLS && account.tlsVerify()) {
      return "\n  If the server's certificate is issued by a private CA, give that CA to the account:"
          + " SELECT mail.update_account('"
          + name
          + "', tls_ca_pem => '-----BEGIN CERTIFICATE-----…');"
          + "\n  to skip verification (trusted networks only): SELECT mail.update_account('"
          + name
          + "', tls_verify => false);";
    }
    return "";
  }

  /** Sends one test mail on the open session; 0 when the end of data was answered with 2xx. */
  private int sendTestMail(SmtpConnection smtp, Account account) {
    if (account.fromAddress() == null) {
      throw new CliFailure(
          "account " + name + " has no from_address; set one with mail.update_account");
    }
    MailAddress from = new MailAddress(account.fromAddress(), account.displayName());
    String messageId = "<test." + UUID.randomUUID() + "@" + domainOf(account.fromAddress()) + ">";
    MailMessage message =
        new MailMessage(
            from,
            List.of(MailAddress.of(sendTo)),
            null,
            null,
            "Postroom test mail (account " + name + ")",
            "This test mail was sent directly through Postroom account "
                + name
                + " by 'postroom account test', not through the queue.\n",
            null,
            null,
            null,
            null,
            null,
            messageId,
            Instant.now());
    ctx.out.printf("Sending a test mail %s to %s through account %s%n", messageId, sendTo, name);
    TransactionResult result =
        smtp.send(
            new Envelope(account.fromAddress(), List.of(sendTo)),
            MessageContent.of(new MessageComposer().toBytes(message)));
    RecipientOutcome outcome = result.outcomes().get(0);
    Reply reply = outcome.reply();
    String verdict =
        switch (outcome) {
          case RecipientOutcome.Delivered d -> "accepted";
          case RecipientOutcome.Deferred d -> "deferred (temporary failure)";
          case RecipientOutcome.Failed f -> "refused (permanent failure)";
        };
    String stage = outcome.stage() == Stage.DATA_END ? "end of data" : outcome.stage().toString();
    ctx.out.printf("  %-10s %s%n", stage, reply);
    if (outcome instanceof RecipientOutcome.Delivered) {
      ctx.out.printf(
          "OK: %s accepted the test mail for %s: %s%n", smtp.remoteHost(), sendTo, reply);
      return Main.OK;
    }
    ctx.err.printf(
        "postroom: account %s: the test mail to %s was %s at %s: %s%n",
        name, sendTo, verdict, stage, reply);
    return Main.FAILURE;
  }

  private SmtpEndpoint endpoint(Account account) {
    TlsMode mode = TlsMode.valueOf(account.tls().toUpperCase(Locale.ROOT));
    if (!"mx".equals(account.delivery())) {
      return new SmtpEndpoint(account.host(), account.port(), mode);
    }
    String target = domain != null ? domain : sendTo == null ? null : domainOf(sendTo);
    if (target == null) {
      throw new CliFailure(
          "account "
              + name
              + " delivers directly to the recipients' MX hosts: give the domain to test with"
              + " --domain DOMAIN (or --send-to ADDRESS)");
    }
    MxSettings dns =
        account.dnsServers() == null || account.dnsServers().isBlank()
            ? MxSettings.system()
            : MxSettings.parse(account.dnsServers());
    MxRoute route = new MxResolver(dns).resolve(target);
    if (!(route instanceof MxRoute.Hosts hosts)) {
      String why =
          switch (route) {
            case MxRoute.NullMx n -> "the domain accepts no mail (null MX, RFC 7505)";
            case MxRoute.NoSuchDomain n -> "the domain does not exist";
            case MxRoute.NoUsableHosts n -> n.reason();
            case MxRoute.TemporaryFailure t -> "DNS failed for now: " + t.reason();
            case MxRoute.Hosts h -> throw new IllegalStateException();
          };
      throw new CliFailure("account " + name + ": MX lookup for " + target + " failed: " + why);
    }
    MxHost host = hosts.hosts().get(0);
    InetAddress address = host.addresses().get(0);
    line(
        "MX",
        target
            + " -> "
            + host.name()
            + (host.implicit() ? " (no MX record: the domain itself)" : "")
            + " ["
            + address.getHostAddress()
            + "]");
    return new SmtpEndpoint(host.name(), account.mxPort(), mode, address);
  }

  private Account load(Connection c) throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            """
            SELECT a.host, a.port, a.tls, a.tls_verify, a.tls_ca_pem, a.username, a.password,
                   a.auth, a.from_address, a.display_name, a.helo_name, a.delivery,
                   mail.setting('dns_servers') AS dns_servers, mail.setting('mx_port') AS mx_port
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
            rs.getString("from_address"),
            rs.getString("display_name"),
            rs.getString("helo_name"),
            rs.getString("delivery"),
            rs.getString("dns_servers"),
            Integer.parseInt(rs.getString("mx_port")));
      }
    }
  }

  private static String domainOf(String address) {
    int at = address.lastIndexOf('@');
    return at < 0 ? address : address.substring(at + 1);
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
