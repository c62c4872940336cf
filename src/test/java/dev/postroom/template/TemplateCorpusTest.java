package dev.postroom.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.util.PSQLException;

/**
 * One corpus of templates and data rendered by the dispatcher's engine (mustache.java) and by the
 * SQL preview (PL/pgSQL): both must give the same text to the character, and both must refuse the
 * same broken templates.
 */
class TemplateCorpusTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final TemplateEngine engine = new TemplateEngine();

  static Stream<Arguments> corpus() {
    return Stream.of(
        body("plain text, no tags", "Hello, world.\nSecond line.\n", "{}"),
        body("a variable", "Hello {{name}}!", "{\"name\": \"Ann\"}"),
        body("spaces inside the tag", "Hello {{ name }}!", "{\"name\": \"Ann\"}"),
        body("missing variable is empty", "Hello {{name}}!", "{}"),
        body("null variable is empty", "[{{name}}]", "{\"name\": null}"),
        body(
            "numbers keep their printed form",
            "{{a}} {{b}} {{c}} {{d}}",
            "{\"a\": 42, \"b\": 1.50, \"c\": -0.001, \"d\": 1e3}"),
        body("booleans print as words", "{{t}}/{{f}}", "{\"t\": true, \"f\": false}"),
        body(
            "Unicode in template and data",
            "Grüße, {{name}} ✉ — {{city}} 😀",
            "{\"name\": \"Zoë Ångström\", \"city\": \"東京\"}"),
        html(
            "HTML escapes {{var}}",
            "<p>{{v}}</p>",
            "{\"v\": \"<script>alert('x') & \\\"y\\\" = `z`</script>\"}"),
        html(
            "HTML keeps {{{raw}}} and {{&raw}}",
            "<p>{{{v}}}|{{& v}}</p>",
            "{\"v\": \"<b>bold</b> & co\"}"),
        html("HTML escapes control characters", "<pre>{{v}}</pre>", "{\"v\": \"a\\tb\\nc\"}"),
        body("text bodies never escape", "{{v}}", "{\"v\": \"<b>&amp;</b>\"}"),
        body(
            "section over a list",
            "{{#items}}- {{name}}\n{{/items}}",
            "{\"items\": [{\"name\": \"tea\"}, {\"name\": \"coffee\"}]}"),
        body(
            "standalone section lines",
            "Lines:\n{{#items}}\n  * {{.}}\n{{/items}}\nEnd\n",
            "{\"items\": [\"a\", \"b\", \"c\"]}"),
        body(
            "indented standalone section lines",
            "<ul>\n  {{#items}}\n  <li>{{.}}</li>\n  {{/items}}\n</ul>\n",
            "{\"items\": [1, 2]}"),
        body(
            "trailing spaces after a section tag", "A\n{{#x}}   \nB\n{{/x}}  \nC", "{\"x\": true}"),
        body("inline sections", "[{{#x}}yes{{/x}}{{^x}}no{{/x}}]", "{\"x\": false}"),
        body(
            "inverted section over missing and empty",
            "{{^a}}no a{{/a}} {{^b}}empty b{{/b}} {{^c}}empty c{{/c}}",
            "{\"b\": [], \"c\": \"\"}"),
        body(
            "zero and empty object are true",
            "{{#z}}zero is true{{/z}} {{#o}}{} is true{{/o}}",
            "{\"z\": 0, \"o\": {}}"),
        body(
            "section over an object pushes it",
            "{{#customer}}{{name}} ({{vip}}){{/customer}}",
            "{\"customer\": {\"name\": \"Ann\", \"vip\": \"yes\"}, \"vip\": \"outer\"}"),
        body(
            "names fall back to outer contexts",
            "{{#items}}{{name}} of {{shop}}; {{/items}}",
            "{\"shop\": \"Corner\", \"items\": [{\"name\": \"a\"}, {\"name\": \"b\", \"shop\": \"Other\"}]}"),
        body(
            "a present null key stops the lookup",
            "{{#items}}[{{shop}}]{{/items}}",
            "{\"shop\": \"Corner\", \"items\": [{\"shop\": null}]}"),
        body(
            "nested sections",
            "{{#orders}}Order {{id}}:{{#lines}} {{qty}}x{{item}}{{/lines}}\n{{/orders}}",
            "{\"orders\": [{\"id\": 1, \"lines\": [{\"qty\": 2, \"item\": \"tea\"}]},"
                + " {\"id\": 2, \"lines\": []}]}"),
        body(
            "dotted names",
            "{{customer.address.city}} / {{customer.missing.x}} / {{nope.x}}",
            "{\"customer\": {\"address\": {\"city\": \"Oslo\"}}}"),
        body(
            "dotted section",
            "{{#customer.address}}{{city}}{{/customer.address}}",
            "{\"customer\": {\"address\": {\"city\": \"Oslo\"}}}"),
        body(
            "implicit iterator over scalars",
            "{{#xs}}<{{.}}>{{/xs}}",
            "{\"xs\": [\"a\", 1, true, null, 2.5]}"),
        body("nested lists", "{{#m}}[{{#.}}{{.}},{{/.}}]{{/m}}", "{\"m\": [[1, 2], [3]]}"),
        body(
            "objects and lists print as jsonb text",
            "{{o}} {{l}}",
            "{\"o\": {\"b\": [1, \"x\"], \"a\": {\"c\": null}}, \"l\": [1, \"two\", {\"k\": \"v\"}]}"),
        body("section over a string", "{{#s}}[{{.}}]{{/s}}", "{\"s\": \"text\"}"),
        body("comments vanish", "a{{! a comment }}b\n{{! standalone }}\nc", "{}"),
        body("CRLF line breaks", "a\r\n{{#x}}\r\nb\r\n{{/x}}\r\nc\r\n", "{\"x\": true}"),
        body("a lone brace is text", "{ {x} }} {{x}}", "{\"x\": \"X\"}"),
        body("a single closing brace inside a tag name", "{{a}b}}", "{\"a}b\": \"odd\"}"),
        subject(
            "subject is never escaped",
            "Invoice {{n}} for {{who}}",
            "{\"n\": 7, \"who\": \"A & <B>\"}"),
        subject(
            "line breaks from data fold to a space",
            "Re: {{s}}",
            "{\"s\": \"one\\r\\ntwo\\nthree\"}"),
        body("section over 1,000 items", "{{#rows}}{{n}};{{/rows}}", thousandRows()));
  }

  static Stream<Arguments> broken() {
    return Stream.of(
        Arguments.of("unclosed section", "a\n{{#items}}\nb", "line 2"),
        Arguments.of("wrong closing tag", "{{#a}}x{{/b}}", "does not close"),
        Arguments.of("closing tag without section", "x{{/a}}", "not open"),
        Arguments.of("empty tag", "x {{}} y", "empty tag"),
        Arguments.of("unclosed triple mustache", "{{{raw}}", "}}}"),
        Arguments.of("partial", "{{> header}}", "partials"),
        Arguments.of("delimiter change", "{{=<% %>=}}", "delimiters"),
        Arguments.of("unterminated tag", "Hello {{name", "not closed"),
        Arguments.of("unclosed nested section", "{{#a}}{{#b}}{{/a}}", "does not close"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void sqlPreviewAndDispatcherEngineAgree(
      String name, String part, String template, String data, boolean html) throws SQLException {
    String dataText = pgJsonb(data);
    String expected =
        part.equals("subject")
            ? engine.render(template, "", false, dataText).subject()
            : engine.render("", template, html, dataText).body();
    String fromSql = sqlRender(template, data, part, html);
    assertThat(fromSql).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("broken")
  void bothRefuseBrokenTemplates(String name, String template, String problem) {
    assertThatThrownBy(() -> engine.render("", template, false, "{}"))
        .isInstanceOf(TemplateException.class);
    assertThatThrownBy(() -> sqlRender(template, "{}", "body", false))
        .isInstanceOfSatisfying(
            PSQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo("MA021");
              assertThat(e.getServerErrorMessage().getMessage()).contains(problem);
            });
  }

  private static String sqlRender(String template, String data, String part, boolean html)
      throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement st =
            c.prepareStatement("SELECT mail.template_render(?, ?::jsonb, ?, ?, 'corpus')")) {
      st.setString(1, template);
      st.setString(2, data);
      st.setString(3, part);
      st.setBoolean(4, html);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  /** The data as the dispatcher reads it: PostgreSQL's jsonb text. */
  private static String pgJsonb(String data) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement st = c.prepareStatement("SELECT ?::jsonb::text")) {
      st.setString(1, data);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  private static String thousandRows() {
    StringBuilder sb = new StringBuilder("{\"rows\": [");
    for (int i = 0; i < 1000; i++) {
      sb.append(i == 0 ? "" : ", ").append("{\"n\": ").append(i).append('}');
    }
    return sb.append("]}").toString();
  }

  private static Arguments body(String name, String template, String data) {
    return Arguments.of(name, "body", template, data, false);
  }

  private static Arguments html(String name, String template, String data) {
    return Arguments.of(name, "body", template, data, true);
  }

  private static Arguments subject(String name, String template, String data) {
    return Arguments.of(name, "subject", template, data, false);
  }
}
