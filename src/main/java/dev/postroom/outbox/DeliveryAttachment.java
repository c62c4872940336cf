package dev.postroom.outbox;

/** An attachment of a claimed mail, as stored in {@code mail.attachment}. */
public record DeliveryAttachment(
    long mailId, String filename, String contentType, String contentId, byte[] content) {}
