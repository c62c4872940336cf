/**
 * An in-process SMTP server for the client's tests: real loopback sockets, replies scripted per
 * command, misbehaviour on purpose (stall, drop, trickle, injected bytes) and a record of every
 * byte received. The TLS certificate it uses is generated at test time.
 */
package dev.postroom.smtp.testserver;
