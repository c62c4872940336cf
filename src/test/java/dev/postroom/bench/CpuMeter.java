package dev.postroom.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * CPU time spent, in milliseconds: by this JVM, and by a PostgreSQL server (its postmaster's live
 * children plus the children that already exited, which the kernel adds to the postmaster's
 * cutime). Unlike elapsed time, it holds up on a busy machine: what a mail costs, not how long it
 * waited for a core.
 */
record CpuMeter(long jvmMillis, long postgresMillis) {
  private static final long TICKS_PER_SECOND = 100; // USER_HZ on Linux

  static CpuMeter read(long postmasterPid) {
    var os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    return new CpuMeter(os.getProcessCpuTime() / 1_000_000, postgres(postmasterPid));
  }

  CpuMeter minus(CpuMeter earlier) {
    return new CpuMeter(jvmMillis - earlier.jvmMillis, postgresMillis - earlier.postgresMillis);
  }

  private static long postgres(long postmaster) {
    if (postmaster <= 0) {
      return 0;
    }
    long ticks = fields(postmaster, true);
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      ticks +=
          procs
              .filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
              .mapToLong(p -> childTicks(p, postmaster))
              .sum();
    } catch (IOException e) {
      return -1;
    }
    return ticks * 1000 / TICKS_PER_SECOND;
  }

  private static long childTicks(Path proc, long parent) {
    try {
      String[] f = stat(proc);
      return Long.parseLong(f[1]) == parent ? Long.parseLong(f[11]) + Long.parseLong(f[12]) : 0;
    } catch (IOException | RuntimeException e) {
      return 0; // exited meanwhile
    }
  }

  /** utime + stime of the process itself, or cutime + cstime of its reaped children. */
  private static long fields(long pid, boolean children) {
    try {
      String[] f = stat(Path.of("/proc", String.valueOf(pid)));
      return children
          ? Long.parseLong(f[13]) + Long.parseLong(f[14])
          : Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** The fields of /proc/PID/stat after the command name: [0] state, [1] ppid, … [11] utime. */
  private static String[] stat(Path proc) throws IOException {
    String s = Files.readString(proc.resolve("stat"));
    return s.substring(s.lastIndexOf(')') + 2).split(" ");
  }
}
