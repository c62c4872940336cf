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
 * <p>Lifecycle of one mail transaction; every step checks the state it needs ({@link #expect}):
 *
 * <pre>
 *   IDLE ──envelope──▶ ENVELOPE ──DATA answered──▶ DATA_ANSWERED ──354: content, "."──▶ IDLE
 *                         │                              └──any other reply──▶ ABORTED
 *                         └──MAIL refused / nobody accepted (lock-step)──▶ ABORTED
 *   ABORTED ──RSET──▶ IDLE
 *   any ──421, timeout, lost connection, protocol error, refused RSET──▶ BROKEN
 * </pre>
 *
 * <p>Per transaction: MAIL (with SIZE, BODY=8BITMIME, SMTPUTF8, RET, ENVID when advertised and
 * needed), RCPT for each recipient (NOTIFY, ORCPT with DSN), DATA, the dot-stuffed content, and the
 * end-of-data reply. With PIPELINING, MAIL, every RCPT and DATA go out in one write (RFC 2920). A
 * recipient refused with 452 (or 552, RFC 5321 §4.5.3.1.10) goes into the next transaction, as do
 * recipients beyond {@code maxRecipientsPerTransaction}.
 *
 * <p>Only the reply to the final "." delivers. Any reply to DATA but 354 ends the transaction
 * without content: 5xx fails the accepted recipients, anything else defers them. A malformed RCPT
 * reply line defers only its recipient (the stream is still aligned); the session is then not
 * reused. Going to BROKEN cuts off every recipient still open: deferred, flagged {@code cutOff},
 * with the failure's reply.
 *
 * <p>Nothing is sent when a local check fails first: a line over 998 octets (5.6.0), 8-bit content
 * without 8BITMIME (5.6.3), a message over the advertised SIZE (5.3.4), a non-ASCII address without
 * SMTPUTF8 (5.6.7).
 */
final class Transaction {
  private static final Pattern FORWARD_PATH = Pattern.compile("<([^<>\\s]+@[^<>\\s]+)>");

  private enum State {
    IDLE,
    ENVELOPE,
    DATA_ANSWERED,
    ABORTED,
    BROKEN
  }

  /** What the envelope of one transaction came to. */
  private record EnvelopeReplies(
      Reply mail, Reply data, List<Integer> accepted, List<Integer> tooMany) {}

  private final SmtpConnection c;
  private final Envelope envelope;
  private final MessageContent content;
  private final Timeouts t;
  private final RecipientOutcome[] outcomes;
  private final Reply[] rcptReplies;
  private State state = State.IDLE;
  private Stage stage = Stage.MAIL;
  private Reply tooManyReply;
  private boolean eightBit;
  private boolean garbled;

  Transaction(SmtpConnection c, Envelope envelope, MessageContent content) {
    this.c = c;
    this.envelope = envelope;
    this.content = content;
    this.t = c.settings().timeouts();
    this.outcomes = new RecipientOutcome[envelope.recipients().size()];
    this.rcptReplies = new Reply[outcomes.length];
  }

  TransactionResult run() {
    if (!c.isReusable()) {
      return cutOff(Reply.local(451, "4.4.2", "connection is not usable"));
    }
    List<Integer> todo = precheck();
    try {
      int max = c.settings().maxRecipientsPerTransaction();
      while (!todo.isEmpty()) {
        List<Integer> batch = List.copyOf(todo.subList(0, Math.min(max, todo.size())));
        List<Integer> next = new ArrayList<>();
        List<Integer> tooMany = transact(batch);
        if (!tooMany.isEmpty() && tooMany.size() == batch.size()) {
          // nobody was accepted: 452 means the server is out of room, not "too many" this time
          tooMany.forEach(i -> outcomes[i] = decide(i, Stage.RCPT, tooManyReply));
        } else {
          next.addAll(tooMany);
        }
        next.addAll(todo.subList(batch.size(), todo.size()));
        todo = next;
      }
    } catch (IOException e) {
      return cutOff(SmtpConnection.localFailure(stage, e));
    } catch (SmtpException e) {
      return cutOff(e.reply() != null ? e.reply() : Reply.local(451, "4.4.2", e.getMessage()));
    }
    if (garbled) {
      c.markBroken();
    }
    return new TransactionResult(List.of(outcomes), null);
  }

  /** Local checks before any byte; returns the recipients that may be sent to. */
  private List<Integer> precheck() {
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
    List<Integer> todo = new ArrayList<>();
    for (int i = 0; i < outcomes.length; i++) {
      String r = envelope.recipients().get(i);
      if (refusal != null) {
        outcomes[i] = decide(i, Stage.MAIL, refusal);
      } else if (!Addresses.isAscii(r) && !caps.smtpUtf8()) {
        outcomes[i] =
            decide(i, Stage.RCPT, Reply.local(553, "5.6.7", "non-ASCII address but no SMTPUTF8"));
      } else {
        todo.add(i);
      }
    }
    return todo;
  }

  /** One mail transaction; returns the recipients refused as "too many" for the next one. */
  private List<Integer> transact(List<Integer> batch) throws IOException {
    expect(State.IDLE);
    EnvelopeReplies env =
        c.capabilities().pipelining() ? pipelinedEnvelope(batch) : lockStepEnvelope(batch);
    if (state == State.ABORTED) {
      reset();
      return env.tooMany();
    }
    expect(State.DATA_ANSWERED);
    Reply data = env.data();
    if (data.code() != 354) {
      Reply why = dataRefusal(data);
      env.accepted().forEach(i -> outcomes[i] = decide(i, Stage.DATA, why));
      state = State.ABORTED;
      reset();
      return env.tooMany();
    }
    if (!env.mail().isPositive() || env.accepted().isEmpty()) {
      // pipelined: DATA was already accepted; an empty message ends it, then RSET
      content(true);
      state = State.ABORTED;
      reset();
      return env.tooMany();
    }
    Reply end = content(false);
    for (int i : env.accepted()) {
      outcomes[i] = decide(i, Stage.DATA_END, end, rcptReplies[i]);
    }
    state = State.IDLE;
    return env.tooMany();
  }

  /** MAIL, every RCPT and DATA in one write, then their replies in order (RFC 2920). */
  private EnvelopeReplies pipelinedEnvelope(List<Integer> batch) throws IOException {
    Wire w = c.wire();
    stage = Stage.MAIL;
    w.command(mailCommand(), null);
    for (int i : batch) {
      w.command(rcptCommand(envelope.recipients().get(i)), null);
    }
    w.command("DATA", null);
    w.flush(t.mail());
    state = State.ENVELOPE;
    Reply mail = checked(w.read(t.mail()));
    stage = Stage.RCPT;
    List<Integer> accepted = new ArrayList<>();
    List<Integer> tooMany = new ArrayList<>();
    for (int i : batch) {
      Reply r = readRcpt(i);
      if (mail.isPositive()) {
        classify(i, r, accepted, tooMany);
      }
    }
    if (!mail.isPositive()) {
      // the 503s that follow a refused MAIL say nothing new: the MAIL reply is the cause
      batch.forEach(i -> outcomes[i] = decide(i, Stage.MAIL, mail));
    }
    stage = Stage.DATA;
    Reply data = checked(w.read(t.dataInit()));
    state = State.DATA_ANSWERED;
    return new EnvelopeReplies(mail, data, accepted, tooMany);
  }

  /** MAIL, each RCPT and DATA, each waiting for its reply. */
  private EnvelopeReplies lockStepEnvelope(List<Integer> batch) throws IOException {
    Wire w = c.wire();
    stage = Stage.MAIL;
    w.command(mailCommand(), null);
    w.flush(t.mail());
    state = State.ENVELOPE;
    Reply mail = checked(w.read(t.mail()));
    List<Integer> accepted = new ArrayList<>();
    List<Integer> tooMany = new ArrayList<>();
    if (!mail.isPositive()) {
      batch.forEach(i -> outcomes[i] = decide(i, Stage.MAIL, mail));
      state = State.ABORTED;
      return new EnvelopeReplies(mail, null, accepted, tooMany);
    }
    stage = Stage.RCPT;
    for (int i : batch) {
      w.command(rcptCommand(envelope.recipients().get(i)), null);
      w.flush(t.rcpt());
      classify(i, readRcpt(i), accepted, tooMany);
    }
    if (accepted.isEmpty()) {
      state = State.ABORTED;
      return new EnvelopeReplies(mail, null, accepted, tooMany);
    }
    stage = Stage.DATA;
    w.command("DATA", null);
    w.flush(t.dataInit());
    Reply data = checked(w.read(t.dataInit()));
    state = State.DATA_ANSWERED;
    return new EnvelopeReplies(mail, data, accepted, tooMany);
  }

  /**
   * One RCPT reply. A malformed line was read whole, so only this recipient is affected: it gets a
   * local 451 4.5.0 and the session is not reused once this send is over.
   */
  private Reply readRcpt(int i) throws IOException {
    try {
      Reply r = checked(c.wire().read(t.rcpt()));
      rcptReplies[i] = r;
      return r;
    } catch (ReplyParser.MalformedLine e) {
      garbled = true;
      return Reply.local(451, "4.5.0", "protocol error in reply to RCPT: " + e.getMessage());
    }
  }

  private void classify(int i, Reply r, List<Integer> accepted, List<Integer> tooMany) {
    if (r.isPositive()) {
      accepted.add(i);
    } else if (r.code() == 452 || r.code() == 552) {
      tooManyReply = r;
      tooMany.add(i);
    } else {
      outcomes[i] = decide(i, Stage.RCPT, r);
    }
  }

  /** A reply to DATA other than 354: 4xx and 5xx stand; a 2xx is no reason to think it went. */
  private static Reply dataRefusal(Reply data) {
    if (!data.isPositive()) {
      return data;
    }
    return Reply.local(
        451,
        "4.5.0",
        "the server answered DATA with \"" + data + "\" instead of 354; no content was sent");
  }

  /**
   * Writes the content (or nothing, to end a transaction nobody is in) and the final "."; returns
   * the end-of-data reply.
   */
  private Reply content(boolean empty) throws IOException {
    expect(State.DATA_ANSWERED);
    DotStuffingOutputStream data = new DotStuffingOutputStream(c.wire().data(t.dataBlock()));
    if (!empty) {
      content.writeTo(data);
      // only from here can the final "." reach the server, making a lost reply a possible duplicate
      stage = Stage.DATA_END;
    }
    data.finish();
    c.wire().flush(t.dataEnd());
    return checked(c.wire().read(t.dataEnd()));
  }

  /** RSET after a transaction that did not end with the end-of-data reply. */
  private void reset() throws IOException {
    expect(State.ABORTED);
    stage = Stage.RSET;
    Reply r = checked(c.exchange(Stage.RSET, "RSET", null));
    if (!r.isPositive()) {
      c.markBroken();
      state = State.BROKEN;
      throw new SmtpException(SmtpException.Kind.PROTOCOL, Stage.RSET, r, true, "RSET refused");
    }
    state = State.IDLE;
  }

  /** A 421 ends the session; a 3xx where none belongs is a protocol error. */
  private Reply checked(Reply r) throws IOException {
    if (r.code() == 421) {
      c.markBroken();
      state = State.BROKEN;
      throw new SmtpException(SmtpException.Kind.PROTOCOL, stage, r, true, "server closing: " + r);
    }
    if (r.isIntermediate() && !(stage == Stage.DATA && r.code() == 354)) {
      throw new ReplySyntaxException("unexpected " + r.code() + " in reply to " + stage);
    }
    return r;
  }

  private void expect(State wanted) {
    if (state != wanted) {
      throw new IllegalStateException("transaction step needs state " + wanted + ", is " + state);
    }
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

  /** Ends the session: every recipient still open is deferred and flagged as cut off. */
  private TransactionResult cutOff(Reply failure) {
    state = State.BROKEN;
    c.markBroken();
    for (int i = 0; i < outcomes.length; i++) {
      if (outcomes[i] == null) {
        outcomes[i] =
            new RecipientOutcome.Deferred(envelope.recipients().get(i), stage, failure, null, true);
      }
    }
    return new TransactionResult(List.of(outcomes), failure);
  }

  private RecipientOutcome decide(int i, Stage at, Reply reply) {
    return decide(i, at, reply, reply);
  }

  /** The outcome by reply class; the forward path comes from a 251/551 RCPT reply. */
  private RecipientOutcome decide(int i, Stage at, Reply reply, Reply rcpt) {
    String r = envelope.recipients().get(i);
    String forward =
        rcpt != null && (rcpt.code() == 251 || rcpt.code() == 551) ? forwardPath(rcpt) : null;
    if (reply.isPositive()) {
      if (at != Stage.DATA_END) {
        throw new IllegalStateException("only the end-of-data reply delivers, not " + at);
      }
      return new RecipientOutcome.Delivered(r, at, reply, forward);
    }
    if (reply.isTransientFailure()) {
      return new RecipientOutcome.Deferred(r, at, reply, forward, false);
    }
    return new RecipientOutcome.Failed(r, at, reply, forward);
  }

  static String forwardPath(Reply reply) {
    Matcher m = FORWARD_PATH.matcher(reply.text());
    return m.find() ? m.group(1) : null;
  }
}
