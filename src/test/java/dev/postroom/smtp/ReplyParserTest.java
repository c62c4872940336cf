package dev.postroom.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReplyParserTest {

  @Test
  void aSingleLineReplyHasItsCodeEnhancedCodeAndText() throws Exception {
    Reply r = ReplyParser.parse(List.of("550 5.1.1 <x@example.org>: user unknown"));
    assertThat(r.code()).isEqualTo(550);
    assertThat(r.enhanced()).hasToString("5.1.1");
    assertThat(r.text()).isEqualTo("<x@example.org>: user unknown");
    assertThat(r.local()).isFalse();
  }

  @Test
  void aBareCodeIsAWholeReplyWithEmptyText() throws Exception {
    Reply r = ReplyParser.parse(List.of("250"));
    assertThat(r.code()).isEqualTo(250);
    assertThat(r.text()).isEmpty();
  }

  @Test
  void aMultiLineReplyKeepsEveryLineAndStripsTheEnhancedCodeFromEach() throws Exception {
    Reply r =
        ReplyParser.parse(List.of("452-4.5.3 Too many", "452-4.5.3 recipients", "452 4.5.3 now"));
    assertThat(r.lines()).hasSize(3);
    assertThat(r.text()).isEqualTo("Too many recipients now");
  }

  @Test
  void aContinuationLineWithEmptyTextIsAccepted() throws Exception {
    assertThat(ReplyParser.parse(List.of("250-", "250 ok")).lines()).containsExactly("", "ok");
  }

  @Test
  void anEnhancedCodeOfAnotherClassIsIgnoredAndKeptInTheText() throws Exception {
    Reply r = ReplyParser.parse(List.of("550 4.1.1 odd"));
    assertThat(r.enhanced()).isNull();
    assertThat(r.text()).isEqualTo("4.1.1 odd");
    assertThat(r.enhancedOrDefault()).hasToString("5.0.0");
  }

  @Test
  void aThreeHundredReplyNeverCarriesAnEnhancedCode() throws Exception {
    assertThat(ReplyParser.parse(List.of("354 2.0.0 go ahead")).enhanced()).isNull();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"550 5.1.1000 x", "550 5.x.1 x", "550 5.1 x", "550 6.1.1 x", "550 5.1.1.1 x"})
  void anInvalidEnhancedCodeIsIgnored(String line) throws Exception {
    assertThat(ReplyParser.parse(List.of(line)).enhanced()).isNull();
  }

  @Test
  void anUnknownCodeWithinTheRangeIsKept() throws Exception {
    Reply r = ReplyParser.parse(List.of("254 fine"));
    assertThat(r.code()).isEqualTo(254);
    assertThat(r.isPositive()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"260 ok", "477 4.2.0 wait", "599 no", "299-a"})
  void anyThreeDigitCodeWhoseFirstDigitIs2To5IsWellFormed(String line) throws Exception {
    ReplyParser parser = new ReplyParser();
    parser.accept(line);
    assertThat(Integer.parseInt(line.substring(0, 3)) / 100).isBetween(2, 5);
  }

  @Test
  void aMalformedFirstLineIsReportedAsAlignedButALaterOneIsNot() throws Exception {
    assertThatThrownBy(() -> new ReplyParser().accept("hello there"))
        .isInstanceOf(ReplyParser.MalformedLine.class);
    ReplyParser parser = new ReplyParser();
    parser.accept("250-first");
    assertThatThrownBy(() -> parser.accept("garbage"))
        .isInstanceOf(ReplySyntaxException.class)
        .isNotInstanceOf(ReplyParser.MalformedLine.class);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"", "25", "2x0 ok", "abc def", "250x ok", "600 no", "199 no", "250_ok", " 250 ok"})
  void malformedLinesAreRefusedQuotingTheLine(String line) {
    assertThatThrownBy(() -> ReplyParser.parse(List.of(line)))
        .isInstanceOf(ReplySyntaxException.class)
        .hasMessageContaining("malformed reply line");
  }

  @Test
  void aCodeThatChangesWithinOneReplyIsRefused() {
    assertThatThrownBy(() -> ReplyParser.parse(List.of("250-a", "251 b")))
        .isInstanceOf(ReplySyntaxException.class)
        .hasMessageContaining("changed from 250 to 251");
  }

  @Test
  void aReplyWithMoreThanTheLineLimitIsRefused() {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < ReplyParser.MAX_LINES + 1; i++) {
      lines.add("250-line " + i);
    }
    assertThatThrownBy(() -> ReplyParser.parse(lines))
        .isInstanceOf(ReplySyntaxException.class)
        .hasMessageContaining("more than");
  }

  @Test
  void aHundredLinesAreStillOneReply() throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < ReplyParser.MAX_LINES - 1; i++) {
      lines.add("250-line " + i);
    }
    lines.add("250 end");
    assertThat(ReplyParser.parse(lines).lines()).hasSize(ReplyParser.MAX_LINES);
  }

  @Test
  void controlCharactersAreNotEchoedWhenALineIsQuoted() {
    assertThat(ReplyParser.quote("bad\u001b[31m")).isEqualTo("\"bad?[31m\"");
    assertThat(ReplyParser.quote("x".repeat(100))).endsWith("...\"");
  }

  @Test
  void aReplyEndingEarlyIsRefused() {
    assertThatThrownBy(() -> ReplyParser.parse(List.of("250 a", "250 b")))
        .isInstanceOf(ReplySyntaxException.class);
  }
}
