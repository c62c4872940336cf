package dev.postroom.template;

/** What a template and its data give: the subject (one line) and the body. */
public record RenderedTemplate(String subject, String body) {}
