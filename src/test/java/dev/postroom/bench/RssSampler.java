package dev.postroom.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Samples this process's resident set size (VmRSS) every 200 ms and keeps the peak, in KiB. */
final class RssSampler {
  private final Thread thread;
  private volatile boolean running = true;
  private volatile long peakKib;

  private RssSampler() {
    thread = Thread.ofPlatform().daemon().start(this::run);
  }

  static RssSampler start() {
    return new RssSampler();
  }

  private void run() {
    while (running) {
      peakKib = Math.max(peakKib, rssKib());
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  long stop() throws InterruptedException {
    running = false;
    thread.join();
    return Math.max(peakKib, rssKib());
  }

  static long rssKib() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    return 0;
  }
}
