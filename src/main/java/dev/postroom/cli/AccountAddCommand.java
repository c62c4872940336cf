package dev.postroom.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "add",
    mixinStandardHelpOptions = true,
    description = {
      "Add an SMTP account through mail.add_account, and optionally put it in a profile.",
      "Options left out take mail.add_account's defaults (port 587, tls starttls_required)."
    })
final class AccountAddCommand implements Callable<Integer> {
  private final CliContext ctx;
  @Mixin GlobalOptions global;
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "NAME", description = "The account's name.")
  String name;

  @Option(names = "--host", description = "The relay host (required unless --delivery mx).")
  String host;

  @Option(names = "--port", description = "Default 587.")
  Integer port;

  @Option(
      names = "--tls",
      paramLabel = "MODE",
      description = "none, starttls, starttls_required (default) or implicit.")
  String tls;

  @Option(names = "--no-tls-verify", description = "Do not verify the server's certificate.")
  boolean noTlsVerify;

  @Option(names = "--tls-ca", paramLabel = "PEM_FILE", description = "Extra trusted CA (PEM).")
  Path tlsCa;

  @Option(names = "--username", description = "AUTH user name.")
  String username;

  @Option(
      names = "--password",
      arity = "0..1",
      interactive = true,
      description = "AUTH password; prompted for when given without a value.")
  char[] password;

  @Option(names = "--password-file", paramLabel = "FILE", description = "Read the password.")
  Path passwordFile;

  @Option(names = "--auth", description = "plain, login or xoauth2 (default: best offered).")
  String auth;

  @Option(names = "--from", paramLabel = "ADDRESS", description = "The From address.")
  String from;

  @Option(names = "--display-name", paramLabel = "TEXT")
  String displayName;

  @Option(names = "--reply-to", paramLabel = "ADDRESS")
  String replyTo;

  @Option(names = "--helo", paramLabel = "NAME", description = "EHLO name.")
  String helo;

  @Option(names = "--delivery", description = "relay (default) or mx.")
  String delivery;

  @Option(names = "--max-connections", paramLabel = "N")
  Integer maxConnections;

  @Option(names = "--rate-per-minute", paramLabel = "N")
  Integer ratePerMinute;

  @Option(
      names = "--profile",
      paramLabel = "PROFILE",
      description = "Also add the account to this profile (created if missing), last in order.")
  String profile;

  @Option(names = "--default-profile", description = "Make --profile the default profile.")
  boolean defaultProfile;

  AccountAddCommand(CliContext ctx) {
    this.ctx = ctx;
    this.global = new GlobalOptions(ctx);
  }

  private record Argument(String name, Object value, String type) {}

  @Override
  public Integer call() throws SQLException {
    ctx.logging();
    if (defaultProfile && profile == null) {
      throw new ParameterException(spec.commandLine(), "--default-profile needs --profile");
    }
    String secret = password != null ? new String(password) : null;
    if (passwordFile != null) {
      secret = readPassword(passwordFile);
    }
    List<Argument> args = new ArrayList<>();
    args.add(new Argument("name", name, "text"));
    args.add(new Argument("host", host, "text"));
    args.add(new Argument("port", port, "int"));
    args.add(new Argument("tls", tls, "text"));
    args.add(new Argument("tls_verify", noTlsVerify ? Boolean.FALSE : null, "boolean"));
    args.add(new Argument("tls_ca_pem", tlsCa == null ? null : read(tlsCa), "text"));
    args.add(new Argument("username", username, "text"));
    args.add(new Argument("password", secret, "text"));
    args.add(new Argument("auth", auth, "text"));
    args.add(new Argument("from_address", from, "text"));
    args.add(new Argument("display_name", displayName, "text"));
    args.add(new Argument("reply_to", replyTo, "text"));
    args.add(new Argument("helo_name", helo, "text"));
    args.add(new Argument("delivery", delivery, "text"));
    args.add(new Argument("max_connections", maxConnections, "int"));
    args.add(new Argument("rate_per_minute", ratePerMinute, "int"));
    List<Argument> given = args.stream().filter(a -> a.value() != null).toList();
    StringBuilder sql = new StringBuilder("SELECT mail.add_account(");
    for (int i = 0; i < given.size(); i++) {
      Argument a = given.get(i);
      sql.append(i == 0 ? "" : ", ").append(a.name()).append(" => ?::").append(a.type());
    }
    sql.append(')');
    try (Connection c = ctx.database().connect()) {
      c.setAutoCommit(false);
      long id;
      try (PreparedStatement st = c.prepareStatement(sql.toString())) {
        for (int i = 0; i < given.size(); i++) {
          st.setObject(i + 1, given.get(i).value());
        }
        try (ResultSet rs = st.executeQuery()) {
          rs.next();
          id = rs.getLong(1);
        }
      }
      if (profile != null) {
        Profiles.addAccount(c, profile, name, defaultProfile);
      }
      c.commit();
      ctx.out.printf(
          "account %s added (id %d)%s%n",
          name, id, profile == null ? "" : ", in profile " + profile);
    }
    return Main.OK;
  }

  private String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ParameterException(spec.commandLine(), "cannot read " + file + ": " + e);
    }
  }

  private String readPassword(Path file) {
    String content = read(file);
    int end = content.indexOf('\n');
    return (end < 0 ? content : content.substring(0, end)).stripTrailing();
  }
}
