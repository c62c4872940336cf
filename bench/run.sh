#!/usr/bin/env bash
# Postroom's benchmark: installs Postfix's smtp-sink when missing, starts it on a free loopback
# port, and runs dev.postroom.bench.Benchmark. Arguments pass through (mails=N runs=N big=N
# pairs=N ratioMails=N; only=ratio runs just the headline comparison with the naive dispatcher).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v smtp-sink >/dev/null && [ ! -x /usr/sbin/smtp-sink ]; then
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix >/dev/null || true
fi
export PATH="/usr/sbin:$PATH"

java_ok() { [ -x "$1/bin/java" ] && "$1/bin/java" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])'; }
if [ -z "${JAVA_HOME:-}" ] || ! java_ok "$JAVA_HOME"; then
  for jdk in /usr/lib/jvm/*; do java_ok "$jdk" && export JAVA_HOME="$jdk" && break; done
fi
mvn -q -B test-compile
mvn -q -B dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sink_pid=""
if command -v smtp-sink >/dev/null; then
  smtp-sink -u postfix "127.0.0.1:$port" 1000 &
  sink_pid=$!
  trap 'kill $sink_pid 2>/dev/null || true' EXIT
  sleep 0.5
  : > target/bench-reference.txt
  # reference: the raw SMTP rate of Postfix's own client against the same sink (2 KiB messages,
  # -d: each session reuses its connection, as the dispatcher does)
  for s in 1 4; do
    start=$(date +%s.%N)
    smtp-source -d -s "$s" -l 2048 -m 20000 -f bench@postroom.test -t sink@example.com "127.0.0.1:$port"
    end=$(date +%s.%N)
    echo "smtp-source → smtp-sink, $s reused connection(s): $(python3 -c "print(round(20000/($end-$start)))") msg/s" \
      | tee -a target/bench-reference.txt
  done
else
  echo "smtp-sink not available; using the built-in capture server of the demo as the sink" >&2
  port=0
fi

machine="Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(psql --version 2>/dev/null | head -1), $("$JAVA_HOME/bin/java" -version 2>&1 | head -1); reference: $(tr '\n' ';' < target/bench-reference.txt 2>/dev/null)"
"$JAVA_HOME/bin/java" -Xmx1g -cp "target/classes:target/test-classes:$(cat target/bench.classpath)" \
  dev.postroom.bench.Benchmark "port=$port" "machine=$machine" \
  "db=${POSTROOM_BENCH_DB:-jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}" \
  "out=bench/out/results.md" "$@"
