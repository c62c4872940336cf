package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.util.PSQLException;

/** Templates in SQL: adding, replacing, dropping, previewing, and sending from them. */
class TemplatesTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final String SENDER = "postroom_test_template_sender";

  @BeforeAll
  static void setUp() throws SQLException {
    Sql.createDefaultProfile(db.dataSource());
    Sql.ensureSender(db.dataSource(), SENDER);
    Sql.exec(
        db.dataSource(),
        "SELECT mail.add_template('invoice', 'Invoice {{number}}',"
            + " '<p>Dear {{name}},</p>{{#lines}}<li>{{item}}</li>{{/lines}}', 'html')");
  }

  static Stream<Arguments> refusals() {
    return Stream.of(
        refused(
            "subject with a template",
            "SELECT mail.send('a@example.com', subject => 'x', template_name => 'invoice')",
            "MA018",
            "subject"),
        refused(
            "body with a template",
            "SELECT mail.send('a@example.com', body => 'x', template_name => 'invoice')",
            "MA018",
            "body"),
        refused(
            "unknown template",
            "SELECT mail.send('a@example.com', template_name => 'no_such_template')",
            "MA019",
            "no_such_template"),
        refused(
            "template_data without a template",
            "SELECT mail.send('a@example.com', 'x', template_data => '{}')",
            "MA019",
            "template_data"),
        refused(
            "template_data that is an array",
            "SELECT mail.send('a@example.com', template_name => 'invoice', template_data => '[1, 2]')",
            "MA020",
            "array"),
        refused(
            "template_data that is a string",
            "SELECT mail.send('a@example.com', template_name => 'invoice', template_data => '\"x\"')",
            "MA020",
            "string"),
        refused(
            "template_data that is JSON null",
            "SELECT mail.send('a@example.com', template_name => 'invoice', template_data => 'null')",
            "MA020",
            "null"),
        refused(
            "the insert path with subject and template",
            "INSERT INTO mail.outbox (recipients, subject, template_name)"
                + " VALUES ('a@example.com', 'x', 'invoice')",
            "MA018",
            "subject"),
        refused(
            "a bulk insert with one unknown template",
            "INSERT INTO mail.outbox (recipients, template_name) VALUES"
                + " ('a@example.com', 'invoice'), ('b@example.com', 'invoce')",
            "MA019",
            "invoce"),
        refused(
            "unclosed section at add_template",
            "SELECT mail.add_template('t1', 'Hi', E'Hello\\n\\n{{#items}}\\n- {{name}}\\n')",
            "MA021",
            "template t1, body, line 3: section {{#items}} is not closed"),
        refused(
            "mismatched closing tag at add_template",
            "SELECT mail.add_template('t1', 'Hi', E'a\\n{{#a}}\\n{{/b}}')",
            "MA021",
            "line 3: {{/b}} does not close {{#a}} (opened on line 2)"),
        refused(
            "syntax error in the subject at add_template",
            "SELECT mail.add_template('t1', 'Hi {{name', 'body')",
            "MA021",
            "template t1, subject, line 1: tag {{name is not closed with }}"),
        refused(
            "line break in a template subject",
            "SELECT mail.add_template('t1', E'Hi\\nBcc: x@evil.example', 'body')",
            "MA021",
            "line break"),
        refused(
            "NULL body at add_template",
            "SELECT mail.add_template('t1', 'Hi', NULL)",
            "MA021",
            "body is NULL"),
        refused(
            "bad body_format at add_template",
            "SELECT mail.add_template('t1', 'Hi', 'x', 'markdown')",
            "MA008",
            "markdown"),
        refused(
            "dropping an unknown template",
            "SELECT mail.drop_template('no_such_template')",
            "MA019",
            "no_such_template"),
        refused(
            "previewing an unknown template",
            "SELECT * FROM mail.render_template('no_such_template', '{}')",
            "MA019",
            "no_such_template"),
        refused(
            "previewing with data that is not an object",
            "SELECT * FROM mail.render_template('invoice', '[]')",
            "MA020",
            "array"));
  }

  private static Arguments refused(String what, String sql, String sqlState, String named) {
    return Arguments.of(what, sql, sqlState, named);
  }

  @ParameterizedTest(name = "{0} is refused with {2}")
  @MethodSource("refusals")
  void badInputIsRefusedWithItsSqlStateAndLeavesNoRows(
      String what, String sql, String sqlState, String named) throws SQLException {
    List<Long> before = footprint();
    assertThatThrownBy(() -> Sql.exec(db.dataSource(), sql))
        .isInstanceOfSatisfying(
            PSQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo(sqlState);
              assertThat(e.getServerErrorMessage().getMessage()).contains(named);
            });
    assertThat(footprint()).isEqualTo(before);
  }

  @Test
  void aMailFromATemplateKeepsTheTemplateAsItWasAtEnqueue() throws SQLException {
    Sql.exec(
        db.dataSource(), "SELECT mail.add_template('notice', 'Notice {{n}}', 'Old body {{n}}')");
    Object id =
        Sql.one(
            db.dataSource(),
            "SELECT mail.send('ann@example.com', template_name => 'notice', template_data => '{\"n\": 1}')");
    Sql.exec(
        db.dataSource(),
        "SELECT mail.add_template('notice', 'Changed {{n}}', 'New body', 'html')",
        "SELECT mail.drop_template('notice')");
    Map<String, Object> row =
        Sql.rows(
                db.dataSource(),
                "SELECT subject, body, body_format, template_name, template_subject, template_body,"
                    + " template_data::text AS data, status::text FROM mail.outbox WHERE id = ?",
                id)
            .get(0);
    assertThat(row.get("template_name")).isEqualTo("notice");
    assertThat(row.get("template_subject")).isEqualTo("Notice {{n}}");
    assertThat(row.get("template_body")).isEqualTo("Old body {{n}}");
    assertThat(row.get("body_format")).isEqualTo("text");
    assertThat(row.get("data")).isEqualTo("{\"n\": 1}");
    assertThat(row.get("subject"))
        .as("rendered by the dispatcher when it claims the mail")
        .isNull();
    assertThat(row.get("body")).isNull();
    assertThat(row.get("status")).isEqualTo("queued");
  }

  @Test
  void aRepeatedNameReplacesTheTemplateAndKeepsItsId() throws SQLException {
    Object first = Sql.one(db.dataSource(), "SELECT mail.add_template('greeting', 'Hi', 'one')");
    Object second =
        Sql.one(
            db.dataSource(), "SELECT mail.add_template('greeting', 'Hello', E'two\\r\\nlines')");
    assertThat(second).isEqualTo(first);
    assertThat(
            Sql.rows(
                db.dataSource(), "SELECT subject, body FROM mail.template WHERE name = 'greeting'"))
        .containsExactly(Map.of("subject", "Hello", "body", "two\nlines"));
  }

  @Test
  void thePreviewRendersSubjectAndBody() throws SQLException {
    Map<String, Object> preview =
        Sql.rows(
                db.dataSource(),
                "SELECT * FROM mail.render_template('invoice',"
                    + " '{\"number\": 42, \"name\": \"Ann & Bob\", \"lines\": [{\"item\": \"<tea>\"}]}')")
            .get(0);
    assertThat(preview)
        .containsEntry("subject", "Invoice 42")
        .containsEntry("body", "<p>Dear Ann &amp; Bob,</p><li>&lt;tea&gt;</li>");
  }

  @Test
  void aSenderPreviewsAndSendsFromTemplatesButCannotChangeThem() throws SQLException {
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.execute("SET ROLE " + SENDER);
      assertThat(
              Sql.rows(c, "SELECT subject FROM mail.render_template('invoice', '{\"number\": 7}')"))
          .containsExactly(Map.of("subject", "Invoice 7"));
      List<Map<String, Object>> sent =
          Sql.rows(
              c,
              "SELECT mail.send('ann@example.com', template_name => 'invoice',"
                  + " template_data => '{\"number\": 7}', idempotency_key => 'tmpl-invoice-7') AS id");
      Object again =
          Sql.rows(
                  c,
                  "SELECT mail.send('ann@example.com', template_name => 'invoice',"
                      + " template_data => '{\"number\": 7}', idempotency_key => 'tmpl-invoice-7') AS id")
              .get(0)
              .get("id");
      assertThat(again).isEqualTo(sent.get(0).get("id"));
      Sql.rows(
          c,
          "INSERT INTO mail.outbox (recipients, template_name, template_data)"
              + " VALUES ('bob@example.com', 'invoice', '{\"number\": 8}') RETURNING id");
      assertThatThrownBy(() -> st.execute("SELECT mail.add_template('mine', 'x', 'y')"))
          .isInstanceOfSatisfying(
              PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
      assertThatThrownBy(() -> st.execute("SELECT mail.drop_template('invoice')"))
          .isInstanceOfSatisfying(
              PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
    }
  }

  private static List<Long> footprint() throws SQLException {
    List<Long> counts = new ArrayList<>(Sql.footprint(db.dataSource()));
    counts.add(Sql.count(db.dataSource(), "mail.template"));
    return counts;
  }
}
