package dev.postroom.smtp;

/** SASL mechanisms the client speaks (RFC 4954). */
public enum AuthMechanism {
  /** RFC 4616; user name and password in one initial response. */
  PLAIN,
  /** The widely deployed draft mechanism; user name and password in two challenges. */
  LOGIN,
  /** OAuth 2.0 bearer token (Google/Microsoft); the secret is the access token. */
  XOAUTH2
}
