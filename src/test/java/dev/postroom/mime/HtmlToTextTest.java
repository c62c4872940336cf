package dev.postroom.mime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HtmlToTextTest {

  @Test
  void paragraphsAreSeparatedByBlankLinesAndBrBreaksALine() {
    assertThat(HtmlToText.convert("<p>First   paragraph\n here.</p><p>Second<br>line two</p>"))
        .isEqualTo("First paragraph here.\n\nSecond\nline two");
  }

  @Test
  void listItemsGetBulletsOrNumbers() {
    assertThat(HtmlToText.convert("<p>Do:</p><ol><li>one</li><li>two</li></ol><ul><li>x</li></ul>"))
        .isEqualTo("Do:\n\n1. one\n2. two\n\n- x");
  }

  @Test
  void linksKeepTheirTargetUnlessTheTextAlreadyIsTheTarget() {
    assertThat(
            HtmlToText.convert(
                "<a href=\"https://a.example/x\">Open</a> or "
                    + "<a href=\"https://b.example\">https://b.example</a> or "
                    + "<a href=\"mailto:help@example.com\">help@example.com</a> or "
                    + "<a href=\"#top\">top</a>"))
        .isEqualTo("Open <https://a.example/x> or https://b.example or help@example.com or top");
  }

  @Test
  void scriptsStylesAndTheHeadAreDroppedAndImagesShowTheirAltText() {
    assertThat(
            HtmlToText.convert(
                "<html><head><title>T</title><style>b{}</style></head><body>"
                    + "<script>alert(1)</script><div>Hi <img src=\"cid:x\" alt=\"Logo\"></div>"
                    + "</body></html>"))
        .isEqualTo("Hi [Logo]");
  }

  @Test
  void preformattedTextKeepsItsLinesAndTableRowsStayOnTheirOwnLine() {
    assertThat(
            HtmlToText.convert(
                "<pre>a  b\n  c</pre><table><tr><td>1</td><td>2</td></tr>"
                    + "<tr><td>3</td><td>4</td></tr></table>"))
        .isEqualTo("a  b\n  c\n\n1 2\n3 4");
  }
}
