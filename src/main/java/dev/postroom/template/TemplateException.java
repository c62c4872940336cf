package dev.postroom.template;

/** A template that does not compile or render, or template data that is not a JSON object. */
public final class TemplateException extends RuntimeException {
  public TemplateException(String message, Throwable cause) {
    super(message, cause);
  }
}
