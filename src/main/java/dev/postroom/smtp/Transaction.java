package dev.postroom.smtp;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sends one message to every recipient of an envelope over one session, in as many mail
 * transactions as needed, and decides an outcome for each recipient.
 *
 * <p>Per transaction: MAIL (with SIZE, BODY=8BITMIME, SMTPUTF8, RET, ENVID when advertised and
 * needed), RCPT for each recipient (NOTIFY, ORCPT with DSN), DATA, the dot-stuffed content, and the
 * end-of-data reply. With PIPELINING, MAIL, every RCPT and DATA go out in one write (RFC 2920). A
 * recipient refused with 452 (or 552, RFC 5321 §4.5.3.1.10) goes into the next transaction, as do
 * recipients beyond {@code maxRecipientsPerTransaction}. A 421, a timeout, a lost connection or a
 * garbled reply ends the session: every recipient still open is deferred with that reply.
 *
 * <p>Nothing is sent when a local check fails first: a line over 998 octets (5.6.0), 8-bit content
 * without 8BITMIME (5.6.3), a message over the advertised SIZE (5.3.4), a non-ASCII address without
 * SMTPUTF8 (5.6.7).
 */
final class Transaction {
  private static final Pattern FORWARD_PATH = Pattern.compile("<([^<>\\s]+@[^<>\\s]+)>");

  private final SmtpConnection c;
  private final Envelope envelope;
  private final MessageContent content;
  private final RecipientOutcome[] outcomes;
  private final Reply[] rcptReplies;
  private final boolean[] later;
  private Reply lastTooMany;
  private boolean eightBit;
  private Stage stage = Stage.MAIL;

  Transaction(SmtpConnection c, Envelope envelope, MessageContent content) {
    this.c = c;
    this.envelope = envelope;
    this.content = content;
    this.outcomes = new RecipientOutcome[envelope.recipients().size()];
    this.rcptReplies = new Reply[outcomes.length];
    this.later = new boolean[outcomes.length];
  }

  TransactionResult run() {
    if (!c.isReusable()) {
      Reply reply = Reply.local(451, "4.4.2", "connection is not usable");
      return finish(open(), reply);
    }
    List<Integer> todo = precheck();
    try {
      while (!todo.isEmpty()) {
        int max = c.settings().maxRecipientsPerTransaction();
        List<Integer> batch = new ArrayList<>(todo.subList(0, Math.min(max, todo.size())));
        List<Integer> rest = new ArrayList<>(todo.subList(batch.size(), todo.size()));
        List<Integer> next = new ArrayList<>();
        List<Integer> tooMany = transact(batch);
        if (!tooMany.isEmpty() && tooMany.size() == batch.size()) {
          // nobody was accepted: 452 means the server is out of room, not "too many" this time
          for (int i : tooMany) {
            outcomes[i] = outcome(i, Stage.RCPT, lastTooMany);
          }
        } else {
          next.addAll(tooMany);
        }
        next.addAll(rest);
        todo = next;
      }
      return finish(List.of(), null);
    } catch (IOException e) {
      c.markBroken();
      Reply reply = SmtpConnection.localFailure(stage, e);
      return finish(open(), reply);
    } catch (SmtpException e) {
      Reply reply = e.reply() != null ? e.reply() : Reply.local(451, "4.4.2", e.getMessage());
      return finish(open(), reply);
    }
  }

  /** Local checks before any byte; returns the recipients that may be sent to. */
  private List<Integer> precheck() {
    List<Integer> todo = new ArrayList<>();
    Capabilities caps = c.capabilities();
    Reply refusal = null;
    try {
      ContentScan scan = ContentScan.of(content);
      eightBit = content.eightBit() || scan.eightBit();
      if (scan.longestLine() > ContentScan.MAX_LINE) {
        refusal =
            Reply.local(
                554, "5.6.0", "a line of " + scan.longestLine() + " octets exceeds the 998 limit");
      } else if (eightBit && !caps.eightBitMime()) {
        refusal = Reply.local(554, "5.6.3", "8-bit content but the server does not offer 8BITMIME");
      } else if (caps.maxSize() > 0 && content.size() > caps.maxSize()) {
        refusal =
            Reply.local(
                552,
                "5.3.4",
                "message of "
                    + content.size()
                    + " octets exceeds the server's SIZE "
                    + caps.maxSize());
      } else if (!Addresses.isAscii(envelope.reversePath()) && !caps.smtpUtf8()) {
        refusal = Reply.local(553, "5.6.7", "non-ASCII sender address but no SMTPUTF8");
      }
    } catch (IOException e) {
      refusal = Reply.local(451, "4.3.0", "the message content cannot be read: " + e.getMessage());
    }
    for (int i = 0; i < outcomes.length; i++) {
      String r = envelope.recipients().get(i);
      if (refusal != null) {
        outcomes[i] = outcome(i, Stage.MAIL, refusal);
      } else if (!Addresses.isAscii(r) && !caps.smtpUtf8()) {
        outcomes[i] =
            outcome(i, Stage.RCPT, Reply.local(553, "5.6.7", "non-ASCII address but no SMTPUTF8"));
      } else {
        todo.add(i);
      }
    }
    return todo;
  }

  /** One mail transaction; returns the recipients refused as "too many" for the next one. */
  private List<Integer> transact(List<Integer> batch) throws IOException {
    Wire w = c.wire();
    Timeouts t = c.settings().timeouts();
    boolean pipelining = c.capabilities().pipelining();
    stage = Stage.MAIL;
    w.command(mailCommand(), null);
    Reply mail;
    if (!pipelining) {
      w.flush(t.mail());
      mail = checked(w.read(t.mail()));
      if (!mail.isPositive()) {
        decideAll(batch, Stage.MAIL, mail);
        return new ArrayList<>();
      }
    } else {
      mail = null;
    }
    for (int i : batch) {
      w.command(rcptCommand(envelope.recipients().get(i)), null);
      if (!pipelining) {
        w.flush(t.rcpt());
        stage = Stage.RCPT;
        rcptReply(i, checked(w.read(t.rcpt())));
      }
    }
    if (pipelining) {
      w.command("DATA", null);
      w.flush(t.mail());
      mail = checked(w.read(t.mail()));
      stage = Stage.RCPT;
      for (int i : batch) {
        Reply r = checked(w.read(t.rcpt()));
        if (mail.isPositive()) {
          rcptReply(i, r);
        }
      }
      if (!mail.isPositive()) {
        decideAll(batch, Stage.MAIL, mail);
      }
    }
    List<Integer> accepted = new ArrayList<>();
    List<Integer> tooMany = new ArrayList<>();
    for (int i : batch) {
      if (later[i]) {
        later[i] = false;
        tooMany.add(i);
      } else if (outcomes[i] == null) {
        accepted.add(i);
      }
    }
    if (mail == null || !mail.isPositive()) {
      if (pipelining) {
        stage = Stage.DATA;
        Reply data = checked(w.read(t.dataInit()));
        if (data.code() == 354) {
          sendData(true);
        }
      }
      return tooMany;
    }
    stage = Stage.DATA;
    Reply data;
    if (pipelining) {
      data = checked(w.read(t.dataInit()));
    } else if (accepted.isEmpty()) {
      reset();
      return tooMany;
    } else {
      w.command("DATA", null);
      w.flush(t.dataInit());
      data = checked(w.read(t.dataInit()));
    }
    if (data.code() != 354) {
      decideAll(accepted, Stage.DATA, data);
      reset();
      return tooMany;
    }
    if (accepted.isEmpty()) {
      sendData(true);
      return tooMany;
    }
    Reply end = sendData(false);
    for (int i : accepted) {
      outcomes[i] = outcome(i, Stage.DATA_END, end, rcptReplies[i]);
    }
    return tooMany;
  }

  /** Writes the content (or nothing, for a transaction with no recipient) and the final ".". */
  private Reply sendData(boolean empty) throws IOException {
    Timeouts t = c.settings().timeouts();
    DotStuffingOutputStream data = new DotStuffingOutputStream(c.wire().data(t.dataBlock()));
    if (!empty) {
      content.writeTo(data);
      // only from here can the final "." reach the server, making a lost reply a possible duplicate
      stage = Stage.DATA_END;
    }
    data.finish();
    c.wire().flush(t.dataEnd());
    Reply end = checked(c.wire().read(t.dataEnd()));
    if (empty && c.isReusable()) {
      reset();
    }
    return end;
  }

  private void rcptReply(int i, Reply r) {
    rcptReplies[i] = r;
    if (r.isPositive()) {
      return;
    }
    if (r.code() == 452 || r.code() == 552) {
      lastTooMany = r;
      later[i] = true;
      return;
    }
    outcomes[i] = outcome(i, Stage.RCPT, r);
  }

  private void decideAll(List<Integer> recipients, Stage at, Reply reply) {
    for (int i : recipients) {
      if (outcomes[i] == null) {
        later[i] = false;
        outcomes[i] = outcome(i, at, reply);
      }
    }
  }

  /** RSET after a transaction that did not end with the end-of-data reply. */
  private void reset() throws IOException {
    stage = Stage.RSET;
    Reply r = checked(c.exchange(Stage.RSET, "RSET", null));
    if (!r.isPositive()) {
      c.markBroken();
    }
  }

  /** A 421 ends the session; a 3xx where none belongs is a protocol error. */
  private Reply checked(Reply r) throws IOException {
    if (r.code() == 421) {
      c.markBroken();
      throw new SmtpException(SmtpException.Kind.PROTOCOL, stage, r, true, "server closing: " + r);
    }
    if (r.isIntermediate() && !(stage == Stage.DATA && r.code() == 354)) {
      throw new ReplySyntaxException("unexpected " + r.code() + " in reply to " + stage);
    }
    return r;
  }

  private String mailCommand() throws IOException {
    Capabilities caps = c.capabilities();
    StringBuilder cmd = new StringBuilder("MAIL FROM:<").append(envelope.reversePath()).append('>');
    if (caps.size()) {
      cmd.append(" SIZE=").append(content.size());
    }
    if (caps.eightBitMime() && eightBit) {
      cmd.append(" BODY=8BITMIME");
    }
    if (caps.smtpUtf8() && !allAscii()) {
      cmd.append(" SMTPUTF8");
    }
    DsnRequest dsn = envelope.dsn();
    if (dsn != null && caps.dsn()) {
      if (dsn.ret() != null) {
        cmd.append(" RET=").append(dsn.ret());
      }
      if (dsn.envelopeId() != null) {
        cmd.append(" ENVID=").append(Addresses.xtext(dsn.envelopeId()));
      }
    }
    return cmd.toString();
  }

  private String rcptCommand(String recipient) {
    StringBuilder cmd = new StringBuilder("RCPT TO:<").append(recipient).append('>');
    DsnRequest dsn = envelope.dsn();
    if (dsn != null && c.capabilities().dsn()) {
      if (!dsn.notifyOn().isEmpty()) {
        cmd.append(" NOTIFY=")
            .append(String.join(",", dsn.notifyOn().stream().map(Enum::name).sorted().toList()));
      }
      if (Addresses.isAscii(recipient)) {
        cmd.append(" ORCPT=rfc822;").append(Addresses.xtext(recipient));
      }
    }
    return cmd.toString();
  }

  private boolean allAscii() {
    return Addresses.isAscii(envelope.reversePath())
        && envelope.recipients().stream().allMatch(Addresses::isAscii);
  }

  private List<Integer> open() {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < outcomes.length; i++) {
      if (outcomes[i] == null) {
        out.add(i);
      }
    }
    return out;
  }

  private TransactionResult finish(List<Integer> cutOff, Reply failure) {
    for (int i : cutOff) {
      outcomes[i] =
          new RecipientOutcome.Deferred(envelope.recipients().get(i), stage, failure, null);
    }
    return new TransactionResult(List.of(outcomes), failure);
  }

  private RecipientOutcome outcome(int i, Stage at, Reply reply) {
    return outcome(i, at, reply, reply);
  }

  /** The outcome by reply class; the forward path comes from a 251/551 RCPT reply. */
  private RecipientOutcome outcome(int i, Stage at, Reply reply, Reply rcpt) {
    String r = envelope.recipients().get(i);
    String forward =
        rcpt != null && (rcpt.code() == 251 || rcpt.code() == 551) ? forwardPath(rcpt) : null;
    if (reply.isPositive()) {
      return new RecipientOutcome.Delivered(r, at, reply, forward);
    }
    if (reply.isTransientFailure()) {
      return new RecipientOutcome.Deferred(r, at, reply, forward);
    }
    return new RecipientOutcome.Failed(r, at, reply, forward);
  }

  static String forwardPath(Reply reply) {
    Matcher m = FORWARD_PATH.matcher(reply.text());
    return m.find() ? m.group(1) : null;
  }
}
