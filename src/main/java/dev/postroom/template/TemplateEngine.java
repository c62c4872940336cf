package dev.postroom.template;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.DefaultMustacheVisitor;
import com.github.mustachejava.Mustache;
import com.github.mustachejava.MustacheException;
import com.github.mustachejava.MustacheParser;
import com.github.mustachejava.MustacheVisitor;
import com.github.mustachejava.TemplateContext;
import com.github.mustachejava.reflect.MapObjectHandler;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.Writer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Renders a template's subject and body with template data. Thread-safe; compiled templates are
 * kept in a small cache keyed by their text, so a bulk send from one template compiles it once.
 *
 * <p>Semantics (shared with the SQL preview, mail.render_template): names are looked up in maps
 * only (never as Java methods); a section over a list repeats per item, over any other true value
 * runs once with it on top of the context; missing, null, false, "" and [] are false; the subject
 * is never escaped and a line break a value brings into it becomes one space.
 */
public final class TemplateEngine {
  private static final int CACHE_SIZE = 256;

  private final DefaultMustacheFactory html = new Factory(true);
  private final DefaultMustacheFactory text = new Factory(false);
  private final Map<Key, Mustache> cache =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Mustache> eldest) {
          return size() > CACHE_SIZE;
        }
      };

  private record Key(boolean html, String source) {}

  /**
   * Renders one mail's subject and body.
   *
   * @param dataJson a JSON object as PostgreSQL prints jsonb (null: no data)
   */
  public RenderedTemplate render(String subject, String body, boolean htmlBody, String dataJson) {
    Object data = TemplateData.parseObject(dataJson);
    String renderedSubject = execute(compile(subject, false, "subject"), data);
    return new RenderedTemplate(
        renderedSubject.replaceAll("[\r\n]+", " "), execute(compile(body, htmlBody, "body"), data));
  }

  /**
   * Compiles a template part, or throws {@link TemplateException} naming the part and the problem.
   */
  Mustache compile(String source, boolean escapeHtml, String part) {
    String normalized = source.replace("\r\n", "\n").replace('\r', '\n');
    Key key = new Key(escapeHtml, normalized);
    synchronized (cache) {
      Mustache cached = cache.get(key);
      if (cached != null) {
        return cached;
      }
    }
    Mustache compiled;
    try {
      compiled = (escapeHtml ? html : text).compile(new StringReader(normalized), part);
    } catch (MustacheException e) {
      throw new TemplateException(part + ": " + e.getMessage(), e);
    }
    synchronized (cache) {
      cache.put(key, compiled);
    }
    return compiled;
  }

  private static String execute(Mustache template, Object data) {
    StringWriter out = new StringWriter();
    try {
      template.execute(out, data).flush();
    } catch (MustacheException | java.io.IOException e) {
      throw new TemplateException("template could not be rendered: " + e.getMessage(), e);
    }
    return out.toString();
  }

  /** mustache.java with map-only lookups, optional HTML escaping and no partials or extensions. */
  private static final class Factory extends DefaultMustacheFactory {
    private final boolean escapeHtml;

    Factory(boolean escapeHtml) {
      this.escapeHtml = escapeHtml;
      setObjectHandler(new MapObjectHandler());
    }

    @Override
    public void encode(String value, Writer writer) {
      if (escapeHtml) {
        super.encode(value, writer);
      } else {
        try {
          writer.write(value);
        } catch (java.io.IOException e) {
          throw new MustacheException("Failed to write value", e);
        }
      }
    }

    @Override
    protected MustacheParser createParser() {
      MustacheParser parser = new MustacheParser(this) {};
      parser.setAllowChangingDelimeters(false);
      return parser;
    }

    @Override
    public MustacheVisitor createMustacheVisitor() {
      return new DefaultMustacheVisitor(this) {
        @Override
        public void partial(TemplateContext tc, String variable, String indent) {
          throw unsupported(tc, "partials ({{>" + variable + "}})");
        }

        @Override
        public void dynamicPartial(TemplateContext tc, String variable, String indent) {
          throw unsupported(tc, "partials ({{>" + variable + "}})");
        }

        @Override
        public void extend(TemplateContext tc, String variable, Mustache mustache) {
          throw unsupported(tc, "tag {{<" + variable + "}}");
        }

        @Override
        public void name(TemplateContext tc, String variable, Mustache mustache) {
          throw unsupported(tc, "tag {{$" + variable + "}}");
        }

        @Override
        public void checkName(TemplateContext tc, String variable, Mustache mustache) {
          throw unsupported(tc, "tag {{?" + variable + "}}");
        }

        @Override
        public void pragma(TemplateContext tc, String pragma, String args) {
          throw unsupported(tc, "tag {{%" + pragma + "}}");
        }
      };
    }

    private static MustacheException unsupported(TemplateContext tc, String what) {
      return new MustacheException(what + " not supported", tc);
    }
  }
}
