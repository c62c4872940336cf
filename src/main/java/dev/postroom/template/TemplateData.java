package dev.postroom.template;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;

/**
 * Reads template data, given as the text PostgreSQL prints for a jsonb value, into what
 * mustache.java walks: objects as maps, arrays as lists, strings, booleans, null, and numbers that
 * keep their printed form. An object or array printed by a template prints as its jsonb text, as
 * {@code v::text} does in SQL.
 */
final class TemplateData {
  private static final JsonFactory JSON = new JsonFactory();

  private TemplateData() {}

  /**
   * A JSON number, printed exactly as PostgreSQL printed it (no exponent or trailing-zero changes).
   */
  record Number(String text) {
    @Override
    public String toString() {
      return text;
    }
  }

  /** A JSON object; its keys in PostgreSQL's jsonb order. */
  static final class JsonObject extends LinkedHashMap<String, Object> {
    private final String text;

    JsonObject(String text) {
      this.text = text;
    }

    @Override
    public String toString() {
      return text;
    }
  }

  /** A JSON array. */
  static final class JsonArray extends ArrayList<Object> {
    private final String text;

    JsonArray(String text) {
      this.text = text;
    }

    @Override
    public String toString() {
      return text;
    }
  }

  /** Parses a JSON object; anything else is refused, as mail.send refuses it (MA020). */
  static JsonObject parseObject(String json) {
    String text = json == null ? "{}" : json;
    try (JsonParser p = JSON.createParser(text)) {
      JsonToken first = p.nextToken();
      if (first != JsonToken.START_OBJECT) {
        throw new TemplateException(
            "template_data must be a JSON object, not " + kind(first) + " (SQLSTATE MA020)", null);
      }
      JsonObject data = (JsonObject) value(p, text);
      if (p.nextToken() != null) {
        throw new TemplateException("template data has text after its JSON object", null);
      }
      return data;
    } catch (JsonProcessingException e) {
      throw new TemplateException("template data is not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new TemplateException("template data could not be read", e);
    }
  }

  private static String kind(JsonToken token) {
    if (token == null) {
      return "nothing";
    }
    return switch (token) {
      case START_ARRAY -> "array";
      case VALUE_STRING -> "string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number";
      case VALUE_TRUE, VALUE_FALSE -> "boolean";
      case VALUE_NULL -> "null";
      default -> token.asString();
    };
  }

  private static Object value(JsonParser p, String text) throws IOException {
    JsonToken token = p.currentToken();
    switch (token) {
      case START_OBJECT -> {
        int start = (int) p.currentTokenLocation().getCharOffset();
        LinkedHashMap<String, Object> fields = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          p.nextToken();
          fields.put(name, value(p, text));
        }
        JsonObject printed = new JsonObject(slice(p, text, start));
        printed.putAll(fields);
        return printed;
      }
      case START_ARRAY -> {
        int start = (int) p.currentTokenLocation().getCharOffset();
        ArrayList<Object> items = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          items.add(value(p, text));
        }
        JsonArray printed = new JsonArray(slice(p, text, start));
        printed.addAll(items);
        return printed;
      }
      case VALUE_STRING -> {
        return p.getText();
      }
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
        return new Number(p.getText());
      }
      case VALUE_TRUE -> {
        return Boolean.TRUE;
      }
      case VALUE_FALSE -> {
        return Boolean.FALSE;
      }
      case VALUE_NULL -> {
        return null;
      }
      default -> throw new TemplateException("unexpected JSON token " + token, null);
    }
  }

  /** The text from {@code start} to the end of the token just read. */
  private static String slice(JsonParser p, String text, int start) {
    return text.substring(start, (int) p.currentLocation().getCharOffset());
  }
}
