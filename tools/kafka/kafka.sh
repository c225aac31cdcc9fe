#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, combined broker+controller) for ancestryd tests and CI.
#
#   tools/kafka/kafka.sh install            fetch broker jars from Maven Central (idempotent)
#   tools/kafka/kafka.sh start              format a fresh cluster, start, wait until ready
#   tools/kafka/kafka.sh stop               graceful stop (SIGTERM), SIGKILL after a timeout
#   tools/kafka/kafka.sh kill               SIGKILL (simulate a broker crash), data kept
#   tools/kafka/kafka.sh restart-keep-data  start again on the existing data dir (no format)
#   tools/kafka/kafka.sh status             exit 0 and print pid/port if running, else exit 1
#   tools/kafka/kafka.sh bootstrap          print 127.0.0.1:<port>
#   tools/kafka/kafka.sh tool CLASS ARGS..  run a Kafka CLI class on the broker classpath, e.g.
#       tool org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$(kafka.sh bootstrap)" ...
#       tool org.apache.kafka.tools.TopicCommand --bootstrap-server ... --create --topic t --partitions 1
#   tools/kafka/kafka.sh classpath          print the java classpath ('<libs>/*')
#   tools/kafka/kafka.sh logs [N]           tail the broker log
#   tools/kafka/kafka.sh security-env       print the SASL/TLS listeners and test credentials (KEY=VALUE lines)
#
# Listeners: PLAINTEXT 127.0.0.1:KAFKA_PORT; SASL_PLAINTEXT 127.0.0.1:KAFKA_SASL_PORT (PLAIN,
# SCRAM-SHA-256, SCRAM-SHA-512; one test user); SSL localhost:KAFKA_SSL_PORT (client cert required).
# Test CA, certificates and the SASL password are generated once into the cache dir (openssl).
#
# Environment:
#   KAFKA_PORT (19092)  KAFKA_CONTROLLER_PORT (19093)  KAFKA_SASL_PORT (19094)  KAFKA_SSL_PORT (19095)
#   KAFKA_HEAP_OPTS (-Xms256m -Xmx512m)
#   KAFKA_START_TIMEOUT seconds (120)  KAFKA_STOP_TIMEOUT seconds (30)
#   KAFKA_CACHE_DIR (<repo>/.cache/kafka)  JAVA_HOME (else java on PATH; needs Java >= 17)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

PORT="${KAFKA_PORT:-19092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
SASL_PORT="${KAFKA_SASL_PORT:-19094}"
SSL_PORT="${KAFKA_SSL_PORT:-19095}"
CACHE_DIR="${KAFKA_CACHE_DIR:-$REPO_ROOT/.cache/kafka}"
LIBS_DIR="$CACHE_DIR/libs"
M2_DIR="$CACHE_DIR/m2"
DATA_DIR="$CACHE_DIR/data"
CONF_FILE="$CACHE_DIR/server.properties"
PID_FILE="$CACHE_DIR/kafka.pid"
LOG_FILE="$CACHE_DIR/kafka.log"
STAMP_FILE="$LIBS_DIR/.installed"
TLS_DIR="$CACHE_DIR/tls"
SASL_DIR="$CACHE_DIR/sasl"
SASL_USER=ancestryd
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

log() { echo "kafka.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

check_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (need Java >= 17; set JAVA_HOME)"
  local v
  v="$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/{print $2}')"
  [[ "${v%%.*}" =~ ^[0-9]+$ && "${v%%.*}" -ge 17 ]] || die "Kafka 4.x needs Java >= 17, found '$v' ($JAVA)"
}

pom_hash() { sha256sum "$SCRIPT_DIR/pom.xml" | cut -d' ' -f1; }

is_installed() {
  [[ -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$(pom_hash)" ]] && compgen -G "$LIBS_DIR/kafka_2.13-*.jar" >/dev/null
}

cmd_install() {
  mkdir -p "$CACHE_DIR"
  # serialize concurrent installs (parallel test runners); the lock fd lives only in this
  # subshell so that a broker started later by this script never inherits it
  ( flock 9; do_install ) 9>"$CACHE_DIR/.install.lock"
}

do_install() {
  if is_installed; then
    log "already installed ($(ls "$LIBS_DIR"/*.jar | wc -l) jars in $LIBS_DIR)"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (apt-get install -y maven)"
  local tmp="$LIBS_DIR.tmp.$$"
  rm -rf "$tmp"
  log "fetching Kafka jars from Maven Central into $LIBS_DIR ..."
  local t0=$SECONDS
  local tries=0
  # mvn -q prints its [ERROR]s (and stray ANSI resets) on stdout: keep them in a file, show on failure
  until mvn -B -q -f "$SCRIPT_DIR/pom.xml" -Dmaven.repo.local="$M2_DIR" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
        >"$CACHE_DIR/mvn-install.log" 2>&1; do
    tries=$((tries + 1))
    cat "$CACHE_DIR/mvn-install.log" >&2
    [[ $tries -lt 3 ]] || die "mvn dependency:copy-dependencies failed $tries times"
    log "mvn failed, retrying in 5 s ($tries/3)"; sleep 5
  done
  pom_hash >"$tmp/.installed"
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  log "installed $(ls "$LIBS_DIR"/*.jar | wc -l) jars in $((SECONDS - t0)) s"
}

ensure_installed() { is_installed || cmd_install; }

# pid of our broker if it is alive, else empty
broker_pid() {
  [[ -f "$PID_FILE" ]] || return 0
  local pid; pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  # guard against pid reuse: the process must be our kafka.Kafka with our config
  if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $CONF_FILE"; then
    echo "$pid"
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Test-only secrets, made once and kept: a CA, a broker certificate for localhost/127.0.0.1, a client
# certificate, a second unrelated CA (for "wrong CA" tests) and the SASL user's password.
ensure_security_material() {
  command -v openssl >/dev/null 2>&1 || die "openssl not found (apt-get install -y openssl)"
  mkdir -p "$SASL_DIR"; chmod 700 "$SASL_DIR"
  if [[ ! -s "$SASL_DIR/password" ]]; then
    ( umask 077; openssl rand -hex 16 >"$SASL_DIR/password" )
  fi
  [[ -s "$TLS_DIR/broker-keystore.pem" && -s "$TLS_DIR/client.pem" && -s "$TLS_DIR/other-ca.pem" ]] && return 0
  local tmp="$TLS_DIR.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  (
    cd "$tmp"
    umask 077
    q() { "$@" >/dev/null 2>&1 || { echo "openssl failed: $*" >&2; exit 1; }; }
    q openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=ancestryd test CA" \
      -keyout ca.key -out ca.pem -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    q openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=unrelated test CA" \
      -keyout other-ca.key -out other-ca.pem -addext basicConstraints=critical,CA:TRUE
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >broker.ext
    q openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout broker.key -out broker.csr
    q openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -extfile broker.ext -out broker.pem
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    q openssl req -newkey rsa:2048 -nodes -subj "/CN=ancestryd-test-client" -keyout client.key -out client.csr
    q openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -extfile client.ext -out client.pem
    # Kafka's PEM keystore: an unencrypted PKCS#8 key followed by the certificate chain
    q openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker-pkcs8.key
    cat broker-pkcs8.key broker.pem ca.pem >broker-keystore.pem
    rm -f ./*.csr ./*.ext ./*.srl broker-pkcs8.key
  ) || { rm -rf "$tmp"; die "generating test TLS material failed"; }
  rm -rf "$TLS_DIR"; mv "$tmp" "$TLS_DIR"
  log "generated test CA and certificates in $TLS_DIR"
}

render_config() {
  mkdir -p "$DATA_DIR"
  ensure_security_material
  sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$DATA_DIR|g" \
    -e "s|@SASL_PORT@|$SASL_PORT|g" -e "s|@SSL_PORT@|$SSL_PORT|g" -e "s|@TLS_DIR@|$TLS_DIR|g" \
    -e "s|@SASL_USER@|$SASL_USER|g" -e "s|@SASL_PASSWORD@|$(cat "$SASL_DIR/password")|g" \
    "$SCRIPT_DIR/server.properties.in" >"$CONF_FILE"
  chmod 600 "$CONF_FILE"
}

cmd_security_env() {
  ensure_security_material
  cat <<ENV
KAFKA_SASL_BOOTSTRAP=127.0.0.1:$SASL_PORT
KAFKA_SASL_USER=$SASL_USER
KAFKA_SASL_PASSWORD_FILE=$SASL_DIR/password
KAFKA_SSL_BOOTSTRAP=localhost:$SSL_PORT
KAFKA_TLS_CA=$TLS_DIR/ca.pem
KAFKA_TLS_OTHER_CA=$TLS_DIR/other-ca.pem
KAFKA_TLS_CLIENT_CERT=$TLS_DIR/client.pem
KAFKA_TLS_CLIENT_KEY=$TLS_DIR/client.key
ENV
}

java_tool() { # java_tool CLASS ARGS...  (short-lived CLI JVM)
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="$SCRIPT_DIR/log4j2-tools.properties" \
    -cp "$LIBS_DIR/*" "$@"
}

# Ready = process alive, port accepts TCP, and a Metadata request (Admin listTopics) succeeds.
wait_ready() { # wait_ready PID LOG_OFFSET
  local pid="$1" log_offset="$2" deadline=$((SECONDS + START_TIMEOUT))
  local admin_cfg="$CACHE_DIR/probe-admin.properties"
  printf 'request.timeout.ms=5000\ndefault.api.timeout.ms=10000\nsocket.connection.setup.timeout.ms=2000\n' >"$admin_cfg"
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "broker process $pid exited during startup; last log lines:"; tail -n 60 "$LOG_FILE" >&2 || true
      rm -f "$PID_FILE"; return 1
    fi
    if port_open "$PORT" && tail -c "+$((log_offset + 1))" "$LOG_FILE" | grep -q "Kafka Server started"; then
      if timeout 30 bash "$SCRIPT_DIR/kafka.sh" tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$PORT" \
           --command-config "$admin_cfg" --list >/dev/null 2>>"$CACHE_DIR/probe.err"; then
        return 0
      fi
    fi
    if (( SECONDS >= deadline )); then
      log "broker not ready after ${START_TIMEOUT}s; last log lines:"; tail -n 60 "$LOG_FILE" >&2 || true
      tail -n 20 "$CACHE_DIR/probe.err" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.5
  done
}

launch() { # launch fresh|keep
  local mode="$1"
  check_java
  ensure_installed
  [[ -z "$(broker_pid)" ]] || die "broker already running (pid $(broker_pid)); use stop first"
  port_open "$PORT" && die "port $PORT is already in use by another process (set KAFKA_PORT)"
  port_open "$CONTROLLER_PORT" && die "port $CONTROLLER_PORT is already in use (set KAFKA_CONTROLLER_PORT)"
  port_open "$SASL_PORT" && die "port $SASL_PORT is already in use (set KAFKA_SASL_PORT)"
  port_open "$SSL_PORT" && die "port $SSL_PORT is already in use (set KAFKA_SSL_PORT)"
  local t0=$SECONDS
  render_config
  if [[ "$mode" == fresh ]]; then
    rm -rf "$DATA_DIR"; mkdir -p "$DATA_DIR"
    : >"$LOG_FILE"
    local cluster_id
    cluster_id="$(java_tool kafka.tools.StorageTool random-uuid)"
    local pw; pw="$(cat "$SASL_DIR/password")"
    java_tool kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$CONF_FILE" \
      --add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$pw]" --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$pw]" \
      >>"$LOG_FILE" 2>&1 \
      || { tail -n 30 "$LOG_FILE" >&2; die "storage format failed"; }
    log "formatted $DATA_DIR with cluster id $cluster_id"
  else
    [[ -f "$DATA_DIR/meta.properties" ]] || die "no formatted data in $DATA_DIR; use start"
    echo "===== restart-keep-data $(date -Is) =====" >>"$LOG_FILE"
  fi
  : >"$CACHE_DIR/probe.err"
  local log_offset; log_offset="$(stat -c %s "$LOG_FILE")"
  # setsid + nohup: the broker outlives this script and its process group
  # shellcheck disable=SC2086
  setsid nohup "$JAVA" -server $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$SCRIPT_DIR/log4j2.properties" \
    -Dkafka.logs.dir="$CACHE_DIR" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$CONF_FILE" </dev/null >>"$LOG_FILE" 2>&1 &
  local pid=$!
  echo "$pid" >"$PID_FILE"
  if wait_ready "$pid" "$log_offset"; then
    log "broker ready on 127.0.0.1:$PORT (pid $pid) in $((SECONDS - t0)) s"
  else
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
    die "broker failed to start (log: $LOG_FILE)"
  fi
}

wait_gone() { # wait_gone PID SECONDS
  local pid="$1" deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    (( SECONDS < deadline )) || return 1
    sleep 0.2
  done
}

wait_port_free() {
  local deadline=$((SECONDS + 10))
  while port_open "$PORT" || port_open "$CONTROLLER_PORT" || port_open "$SASL_PORT" || port_open "$SSL_PORT"; do
    (( SECONDS < deadline )) || { log "warning: port still open after stop"; return 0; }
    sleep 0.2
  done
}

cmd_stop() {
  local pid; pid="$(broker_pid)"
  if [[ -z "$pid" ]]; then log "not running"; rm -f "$PID_FILE"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
    log "no exit after ${STOP_TIMEOUT}s of SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || die "pid $pid survived SIGKILL"
  fi
  rm -f "$PID_FILE"
  wait_port_free
  log "stopped (pid $pid)"
}

cmd_kill() {
  local pid; pid="$(broker_pid)"
  if [[ -z "$pid" ]]; then log "not running"; rm -f "$PID_FILE"; return 0; fi
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 10 || die "pid $pid survived SIGKILL"
  rm -f "$PID_FILE"
  wait_port_free
  log "killed -9 (pid $pid); data kept in $DATA_DIR"
}

cmd_status() {
  local pid; pid="$(broker_pid)"
  if [[ -n "$pid" ]] && port_open "$PORT"; then
    echo "running pid=$pid bootstrap=127.0.0.1:$PORT controller=127.0.0.1:$CONTROLLER_PORT"
    return 0
  elif [[ -n "$pid" ]]; then
    echo "starting-or-unhealthy pid=$pid (port $PORT closed)"; return 1
  fi
  echo "stopped"; return 1
}

case "${1:-}" in
  install) cmd_install ;;
  start)
    if [[ -n "$(broker_pid)" ]]; then log "a broker is running; stopping it for a fresh start"; cmd_stop; fi
    launch fresh ;;
  restart-keep-data)
    if [[ -n "$(broker_pid)" ]]; then cmd_stop; fi
    launch keep ;;
  stop) cmd_stop ;;
  kill) cmd_kill ;;
  status) cmd_status ;;
  bootstrap) echo "127.0.0.1:$PORT" ;;
  classpath) echo "$LIBS_DIR/*" ;;
  tool) shift; [[ $# -ge 1 ]] || die "usage: kafka.sh tool CLASS [ARGS...]"; ensure_installed; java_tool "$@" ;;
  logs) tail -n "${2:-100}" "$LOG_FILE" ;;
  security-env) cmd_security_env ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; [[ -n "${1:-}" ]] && exit 2 || exit 0 ;;
esac
