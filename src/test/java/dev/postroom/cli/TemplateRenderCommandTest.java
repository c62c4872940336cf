package dev.postroom.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.testing.TestDatabase;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * postroom template render: the subject and body the dispatcher would send, like the SQL preview.
 */
class TemplateRenderCommandTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static final String DATA =
      "{\"number\": 42, \"name\": \"Zoë <Ann> & Co\", \"lines\": [{\"item\": \"Tea\", \"amount\": 1.50},"
          + " {\"item\": \"Café ☕\", \"amount\": 2}]}";

  @BeforeAll
  static void template() {
    db.jdbi()
        .useHandle(h ->
            h.execute(
                "SELECT mail.add_template('invoice', 'Invoice {{number}} for {{name}}',"
                    + " E'<p>Dear {{name}},</p>\\n<ul>\\n{{#lines}}\\n  <li>{{item}}: {{amount}}</li>\\n"
                    + "{{/lines}}\\n</ul>\\n', 'html')"));
  }

  private static Cli.Result run(String... args) {
    String[] withDb = new String[args.length + 2];
    System.arraycopy(args, 0, withDb, 0, args.length);
    withDb[args.length] = "--db";
    withDb[args.length + 1] = db.url();
    return Cli.run(withDb);
  }

  @Test
  void printsTheRenderedSubjectAndBodyExactlyAsTheSqlPreview() {
    Cli.Result result = run("template", "render", "invoice", "--data", DATA);

    assertThat(result.code()).as(result.err()).isZero();
    assertThat(result.out())
        .isEqualTo(
            """
            Subject: Invoice 42 for Zoë <Ann> & Co

            <p>Dear Zoë &lt;Ann&gt; &amp; Co,</p>
            <ul>
              <li>Tea: 1.50</li>
              <li>Café ☕: 2</li>
            </ul>
            """);
    List<Map<String, Object>> preview =
        db.jdbi()
            .withHandle(h ->
                h.select(
                        "SELECT subject, body FROM mail.render_template('invoice', ?::jsonb)", DATA)
                    .mapToMap()
                    .list());
    assertThat(result.out())
        .isEqualTo(
            "Subject: " + preview.get(0).get("subject") + "\n\n" + preview.get(0).get("body"));
  }

  @Test
  void anUnknownTemplateFailsNamingIt() {
    Cli.Result result = run("template", "render", "no_such", "--data", "{}");

    assertThat(result.code()).isEqualTo(1);
    assertThat(result.err()).contains("unknown template: no_such", "MA019");
  }

  @Test
  void dataThatIsNotAJsonObjectIsRefused() {
    Cli.Result array = run("template", "render", "invoice", "--data", "[1, 2]");
    assertThat(array.code()).isEqualTo(1);
    assertThat(array.err()).contains("must be a JSON object, not array", "MA020");

    Cli.Result broken = run("template", "render", "invoice", "--data", "{\"a\": ");
    assertThat(broken.code()).isEqualTo(1);
    assertThat(broken.err()).contains("invalid input syntax for type json");
  }
}
