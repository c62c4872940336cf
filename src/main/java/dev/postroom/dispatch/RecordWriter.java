package dev.postroom.dispatch;

import dev.postroom.outbox.DeliveryRecord;
import dev.postroom.outbox.DeliveryStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Group commit for delivery results. Each caller blocks until its record is committed; meanwhile
 * the writers take whatever has queued up and commit it in one transaction, so under load many
 * mails share one commit (and one WAL flush), and at light load a record is written at once.
 *
 * <p>If a shared transaction fails for a reason other than the connection, its records are written
 * one by one, so one bad record cannot hold back the others.
 */
final class RecordWriter implements AutoCloseable {
  static final int MAX_BATCH = 200;

  private record Pending(DeliveryRecord record, CompletableFuture<Boolean> done) {}

  private final DeliveryStore store;
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final List<Thread> writers = new ArrayList<>();
  private volatile boolean closed;

  RecordWriter(DeliveryStore store, int writerThreads, String name) {
    this.store = store;
    for (int i = 0; i < writerThreads; i++) {
      writers.add(
          Thread.ofPlatform().name("postroom-record-" + name + "-" + i).daemon().start(this::run));
    }
  }

  /** Writes the record; returns false when the lease was no longer held. */
  boolean write(DeliveryRecord record) {
    if (closed) {
      return store.record(record);
    }
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    queue.add(new Pending(record, done));
    try {
      return done.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while recording mail " + record.mail().id(), e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  private void run() {
    List<Pending> batch = new ArrayList<>(MAX_BATCH);
    while (!closed || !queue.isEmpty()) {
      try {
        Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, MAX_BATCH - 1);
        writeBatch(batch);
      } catch (InterruptedException e) {
        batch.forEach(p -> p.done().completeExceptionally(e));
        return;
      } finally {
        batch.clear();
      }
    }
  }

  private void writeBatch(List<Pending> batch) {
    try {
      List<Boolean> held = store.recordAll(batch.stream().map(Pending::record).toList());
      for (int i = 0; i < batch.size(); i++) {
        batch.get(i).done().complete(held.get(i));
      }
    } catch (RuntimeException e) {
      if (batch.size() == 1 || DatabaseRetry.isConnectionProblem(e)) {
        batch.forEach(p -> p.done().completeExceptionally(e));
        return;
      }
      for (Pending p : batch) {
        try {
          p.done().complete(store.record(p.record()));
        } catch (RuntimeException one) {
          p.done().completeExceptionally(one);
        }
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Thread t : writers) {
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
