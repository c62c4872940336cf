package dev.postroom.outbox;

import dev.postroom.template.RenderedTemplate;
import dev.postroom.template.TemplateEngine;
import dev.postroom.template.TemplateException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.jdbi.v3.core.Handle;

/**
 * Renders, inside one claim's transaction, the claimed mails that were enqueued from a template and
 * are not rendered yet, and writes the rendered subject and body to their rows before the claim
 * commits. So the outbox shows what is sent from the first attempt on, and a later attempt (after a
 * retry or a crash) sends that same stored text without rendering again. Rendering is CPU work
 * only: no network I/O happens while the transaction is open.
 */
final class ClaimRendering {
  private final TemplateEngine engine;
  private final List<Long> ids = new ArrayList<>();
  private final List<String> subjects = new ArrayList<>();
  private final List<String> bodies = new ArrayList<>();

  ClaimRendering(TemplateEngine engine) {
    this.engine = engine;
  }

  /** The claimed mail with its template rendered, or unchanged when it has none to render. */
  ClaimedMail render(ClaimedMail mail, ResultSet rs) throws SQLException {
    if (rs.getString("template_name") == null || mail.body() != null) {
      return mail;
    }
    RenderedTemplate rendered;
    try {
      rendered =
          engine.render(
              rs.getString("template_subject"),
              rs.getString("template_body"),
              "html".equals(mail.bodyFormat()),
              rs.getString("template_data"));
    } catch (TemplateException e) {
      return mail.rendered(
          null, null, "template " + rs.getString("template_name") + ": " + e.getMessage());
    }
    ids.add(mail.id());
    subjects.add(rendered.subject());
    bodies.add(rendered.body());
    return mail.rendered(rendered.subject(), rendered.body(), null);
  }

  /** Stores what was rendered (one statement for the whole claim), and the mails' real sizes. */
  void writeBack(Handle h) {
    if (ids.isEmpty()) {
      return;
    }
    h.createUpdate(
            """
            UPDATE mail.outbox o
               SET subject = r.subject, body = r.body,
                   size_bytes = greatest(o.size_bytes - octet_length(o.template_subject)
                                         - octet_length(o.template_body)
                                         - octet_length(o.template_data::text), 0)
                                + octet_length(r.subject) + octet_length(r.body)
              FROM unnest(:ids, :subjects, :bodies) AS r (id, subject, body)
             WHERE o.id = r.id AND o.body IS NULL
            """)
        .bindArray("ids", Long.class, ids)
        .bindArray("subjects", String.class, subjects)
        .bindArray("bodies", String.class, bodies)
        .execute();
  }
}
