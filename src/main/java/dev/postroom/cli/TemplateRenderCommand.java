package dev.postroom.cli;

import dev.postroom.template.RenderedTemplate;
import dev.postroom.template.TemplateEngine;
import dev.postroom.template.TemplateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "render",
    mixinStandardHelpOptions = true,
    description = {
      "Render a stored template with JSON data, with the engine the dispatcher sends with,",
      "and print the subject and body (the same as SELECT * FROM mail.render_template(NAME, DATA))."
    })
final class TemplateRenderCommand implements Callable<Integer> {
  private final CliContext ctx;
  @Mixin GlobalOptions global;

  @Parameters(paramLabel = "NAME", description = "The template's name (mail.add_template).")
  String name;

  @Option(
      names = "--data",
      paramLabel = "JSON",
      description = "A JSON object of template data (default: {}).")
  String data = "{}";

  TemplateRenderCommand(CliContext ctx) {
    this.ctx = ctx;
    this.global = new GlobalOptions(ctx);
  }

  @Override
  public Integer call() throws SQLException {
    ctx.logging();
    try (Connection c = ctx.database().connect();
        PreparedStatement st =
            c.prepareStatement(
                // The data goes through jsonb so the engine reads it exactly as a queued mail's.
                """
                SELECT t.subject, t.body, t.body_format, d.data::text AS data
                  FROM (SELECT CAST(? AS jsonb) AS data) d
                  LEFT JOIN mail.template t ON t.name = ?
                """)) {
      st.setString(1, data);
      st.setString(2, name);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        if (rs.getString("body") == null) {
          throw new CliFailure("unknown template: " + name + " (SQLSTATE MA019)");
        }
        RenderedTemplate rendered =
            render(
                rs.getString("subject"),
                rs.getString("body"),
                "html".equals(rs.getString("body_format")),
                rs.getString("data"));
        ctx.out.println("Subject: " + rendered.subject());
        ctx.out.println();
        ctx.out.print(rendered.body());
        if (!rendered.body().endsWith("\n")) {
          ctx.out.println();
        }
      }
    }
    return Main.OK;
  }

  private static RenderedTemplate render(String subject, String body, boolean html, String data) {
    try {
      return new TemplateEngine().render(subject, body, html, data);
    } catch (TemplateException e) {
      throw new CliFailure(e.getMessage(), e);
    }
  }
}
