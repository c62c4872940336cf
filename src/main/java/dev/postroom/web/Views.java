package dev.postroom.web;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import com.github.mustachejava.MustacheFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The page templates (Mustache, under {@code dev/postroom/web/} on the class path). Every {@code
 * {{value}}} is HTML-escaped by the engine; no template uses the unescaped forms.
 */
final class Views {
  private final MustacheFactory factory = new DefaultMustacheFactory("dev/postroom/web");
  private final byte[] stylesheet;

  Views() {
    try (InputStream in = Views.class.getResourceAsStream("/dev/postroom/web/style.css")) {
      stylesheet = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String render(String template, Map<String, Object> model) {
    Mustache mustache = factory.compile(template + ".mustache");
    StringWriter out = new StringWriter();
    mustache.execute(out, model);
    return out.toString();
  }

  byte[] stylesheet() {
    return stylesheet.clone();
  }
}
