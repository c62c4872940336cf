package dev.postroom.dispatch;

/** Recipient outcomes this dispatcher has recorded since it started. */
public record DispatchCounts(long delivered, long deferred, long failed) {}
