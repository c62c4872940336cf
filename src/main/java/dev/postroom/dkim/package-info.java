/**
 * DKIM signing (RFC 6376, RSA per RFC 8301, Ed25519 per RFC 8463): relaxed/relaxed
 * canonicalization, the header list Postroom signs (From over-signed), and a signer that hashes the
 * body as it streams past and writes the DKIM-Signature in front of the unchanged message. Keys
 * come from {@code mail.dkim_key}; the cryptography is the JDK's. It never logs or reports key
 * material.
 */
package dev.postroom.dkim;
