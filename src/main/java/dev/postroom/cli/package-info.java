/**
 * The {@code postroom} command line: one picocli command per verb ({@code migrate}, {@code run},
 * {@code send}, {@code status}, {@code account}, {@code demo}), the exit codes (0 success, 1
 * operational failure, 2 usage error) and the one-line error messages. Commands parse and print;
 * the wiring they need lives in {@code dev.postroom.app}.
 */
package dev.postroom.cli;
