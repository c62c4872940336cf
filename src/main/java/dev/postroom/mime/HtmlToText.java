package dev.postroom.mime;

import java.util.Set;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.nodes.TextNode;

/**
 * The readable plain-text version of an HTML body for multipart/alternative: paragraphs and
 * headings separated by blank lines, line breaks kept, list items as "- " or "1. ", link targets in
 * angle brackets after the link text, image alt text in brackets; scripts and styles dropped.
 */
final class HtmlToText {

  private static final Set<String> SKIPPED =
      Set.of("head", "script", "style", "title", "template", "noscript");
  private static final Set<String> PARAGRAPHS =
      Set.of(
          "p",
          "h1",
          "h2",
          "h3",
          "h4",
          "h5",
          "h6",
          "ul",
          "ol",
          "dl",
          "table",
          "blockquote",
          "pre",
          "figure",
          "address");
  private static final Set<String> LINES =
      Set.of(
          "div",
          "li",
          "tr",
          "dt",
          "dd",
          "section",
          "article",
          "header",
          "footer",
          "nav",
          "main",
          "form",
          "caption",
          "figcaption",
          "center");

  private final StringBuilder text = new StringBuilder();
  private int pendingBreaks;
  private boolean pendingSpace;
  private int preDepth;

  private HtmlToText() {}

  static String convert(String html) {
    HtmlToText converter = new HtmlToText();
    converter.children(Jsoup.parse(html).body());
    return converter.text.toString();
  }

  private void children(Node node) {
    for (Node child : node.childNodes()) {
      if (child instanceof TextNode textNode) {
        text(preDepth > 0 ? textNode.getWholeText() : textNode.text());
      } else if (child instanceof Element element) {
        element(element);
      }
    }
  }

  private void element(Element element) {
    String tag = element.normalName();
    if (SKIPPED.contains(tag)) {
      return;
    }
    switch (tag) {
      case "br" -> lineBreak();
      case "hr" -> {
        block(2);
        text("----------");
        block(2);
      }
      case "img" -> {
        String alt = element.attr("alt").strip();
        if (!alt.isEmpty()) {
          pendingSpace = true;
          text("[" + alt + "]");
        }
      }
      case "li" -> listItem(element);
      case "a" -> link(element);
      case "td", "th" -> {
        pendingSpace = text.length() > 0 && pendingBreaks == 0;
        children(element);
        pendingSpace = true;
      }
      case "pre" -> {
        block(2);
        preDepth++;
        children(element);
        preDepth--;
        block(2);
      }
      default -> {
        int breaks = PARAGRAPHS.contains(tag) ? 2 : LINES.contains(tag) ? 1 : 0;
        block(breaks);
        children(element);
        block(breaks);
      }
    }
  }

  private void listItem(Element item) {
    block(1);
    Element list = item.parent();
    if (list != null && list.normalName().equals("ol")) {
      int number = 1;
      for (Element sibling : list.children()) {
        if (sibling == item) {
          break;
        }
        number += sibling.normalName().equals("li") ? 1 : 0;
      }
      text(number + ".");
    } else {
      text("-");
    }
    pendingSpace = true;
    children(item);
    block(1);
  }

  private void link(Element link) {
    int start = text.length();
    children(link);
    String label = text.substring(Math.min(start, text.length())).strip();
    String href = link.attr("href").strip();
    String target = href.regionMatches(true, 0, "mailto:", 0, 7) ? href.substring(7) : href;
    boolean worthShowing =
        href.regionMatches(true, 0, "http", 0, 4) || href.regionMatches(true, 0, "mailto:", 0, 7);
    if (worthShowing && !label.equals(target) && !label.equals(href)) {
      pendingSpace = true;
      text(label.isEmpty() ? href : "<" + href + ">");
    }
  }

  private void block(int breaks) {
    pendingBreaks = Math.max(pendingBreaks, breaks);
  }

  private void lineBreak() {
    if (pendingBreaks > 0) {
      pendingBreaks++;
    } else {
      text.append('\n');
    }
    pendingSpace = false;
  }

  private void text(String s) {
    if (preDepth == 0) {
      if (!s.isEmpty() && Character.isWhitespace(s.charAt(0))) {
        pendingSpace = true;
      }
      boolean trailingSpace = !s.isEmpty() && Character.isWhitespace(s.charAt(s.length() - 1));
      s = s.strip();
      if (s.isEmpty()) {
        pendingSpace |= trailingSpace;
        return;
      }
      flushBreaks();
      if (pendingSpace && text.length() > 0 && !endsWithBreak()) {
        text.append(' ');
      }
      text.append(s);
      pendingSpace = trailingSpace;
    } else {
      flushBreaks();
      text.append(s);
      pendingSpace = false;
    }
  }

  private void flushBreaks() {
    if (pendingBreaks > 0 && text.length() > 0) {
      int existing = 0;
      for (int i = text.length() - 1; i >= 0 && text.charAt(i) == '\n'; i--) {
        existing++;
      }
      text.append("\n".repeat(Math.max(0, pendingBreaks - existing)));
      pendingSpace = false;
    }
    pendingBreaks = 0;
  }

  private boolean endsWithBreak() {
    return text.charAt(text.length() - 1) == '\n';
  }
}
