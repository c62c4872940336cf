/**
 * RFC 8058 one-click unsubscribe: the token that names a list mail's recipient (HMAC-SHA256 under
 * the secret in {@code mail.unsubscribe_secret}), the List-Unsubscribe headers the dispatcher adds,
 * and the small HTTP endpoint {@code postroom run --http-port} serves, which turns a one-click POST
 * into a {@code mail.suppression} row of kind {@code unsubscribe} for the mail's profile.
 */
package dev.postroom.unsubscribe;
