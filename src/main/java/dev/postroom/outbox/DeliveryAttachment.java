package dev.postroom.outbox;

/**
 * An attachment of a claimed mail, without its content: {@link DeliveryStore#openAttachment} reads
 * that in chunks while the message is written, so no mail's attachments are held in memory whole.
 */
public record DeliveryAttachment(
    long id, long mailId, String filename, String contentType, String contentId, long size) {}
