package dev.postroom.cli;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = "List SMTP accounts and the profiles they serve (passwords are never shown).")
final class AccountListCommand implements Callable<Integer> {
  private final CliContext ctx;
  @Mixin GlobalOptions global;

  AccountListCommand(CliContext ctx) {
    this.ctx = ctx;
    this.global = new GlobalOptions(ctx);
  }

  @Override
  public Integer call() throws SQLException {
    ctx.logging();
    try (Connection c = ctx.database().connect();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                """
                SELECT a.name, a.delivery, a.host, a.port, a.tls, a.username, a.from_address,
                       string_agg(p.name || CASE WHEN p.is_default THEN ' (default)' ELSE '' END
                                  || ' #' || pa.sequence, ', ' ORDER BY p.name) AS profiles
                  FROM mail.account a
                  LEFT JOIN mail.profile_account pa ON pa.account_id = a.id
                  LEFT JOIN mail.profile p ON p.id = pa.profile_id
                 GROUP BY a.id
                 ORDER BY a.name
                """)) {
      Table table =
          new Table("name", "delivery", "host", "port", "tls", "username", "from", "profiles");
      while (rs.next()) {
        boolean mx = "mx".equals(rs.getString("delivery"));
        table.row(
            rs.getString("name"),
            rs.getString("delivery"),
            mx ? null : rs.getString("host"),
            mx ? null : rs.getInt("port"),
            rs.getString("tls"),
            rs.getString("username"),
            rs.getString("from_address"),
            rs.getString("profiles"));
      }
      if (table.isEmpty()) {
        ctx.out.println("no accounts; add one with: postroom account add NAME --host HOST");
      } else {
        table.print(ctx.out, "");
      }
    }
    return Main.OK;
  }
}
