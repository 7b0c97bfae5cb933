#!/usr/bin/env bash
# Local MariaDB, Redis and Kafka-protocol broker for development and tests.
#
#   scripts/services.sh up       install what is missing, start all three, wait
#                                until they answer, print the exports (stdout)
#   scripts/services.sh down     stop all three (gracefully; idempotent)
#   scripts/services.sh status   say which are up (exit 0 only if all are)
#   scripts/services.sh env      print only the export lines:
#                                  eval "$(scripts/services.sh env)"
#   scripts/services.sh topic NAME:PARTITIONS...
#                                create topics on the running broker (the
#                                mock has no CreateTopics API; kafkajs
#                                admin.createTopics fails against it)
#
# Everything listens on 127.0.0.1 and keeps its data under .data/ in the repo
# (git-ignored). No systemd/service: the daemons are started detached (setsid)
# with logs .data/*.log and pidfiles .data/*.pid, so they outlive this script.
#
# Environment (all optional):
#   TRADECTL_MYSQL_PORT   (3306)   TRADECTL_REDIS_PORT (6379)
#   TRADECTL_KAFKA_PORT   (9092)   TRADECTL_DATA_DIR   (<repo>/.data)
#   TRADECTL_KAFKA_TOPICS extra topics to pre-create, "name:partitions ..."
#
# The broker is librdkafka's in-memory mock cluster (scripts/mock-broker.c):
# messages and committed offsets vanish when it stops; topics are re-created
# from .data/kafka-topics on start. Unknown topics a client asks for are
# auto-created with 4 partitions.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DATA=${TRADECTL_DATA_DIR:-$ROOT/.data}
MYSQL_PORT=${TRADECTL_MYSQL_PORT:-3306}
REDIS_PORT=${TRADECTL_REDIS_PORT:-6379}
KAFKA_PORT=${TRADECTL_KAFKA_PORT:-9092}
KAFKA_TOPICS="tradectl.orders.v1:12 tradectl.orders.dlq:3 ${TRADECTL_KAFKA_TOPICS:-}"
KAFKA_TOPICS=${KAFKA_TOPICS//,/ }

MY_CNF=$DATA/my.cnf
MY_PID=$DATA/mariadb.pid
MY_SOCK=$DATA/mysqld.sock
# A unix socket path must fit in 108 bytes; deep CI checkouts may not.
if [ ${#MY_SOCK} -gt 100 ]; then
  MY_SOCK=/tmp/tradectl-mysqld-$(printf '%s' "$DATA" | cksum | cut -d' ' -f1).sock
fi
REDIS_PID=$DATA/redis.pid
KAFKA_PID=$DATA/kafka.pid
KAFKA_TOPICS_FILE=$DATA/kafka-topics
KAFKA_SRC=$ROOT/scripts/mock-broker.c
KAFKA_BIN=$ROOT/scripts/bin/mock-broker
OS_USER=$(id -un)

PACKAGES="mariadb-server redis-server redis-tools librdkafka-dev kcat gcc pkg-config"

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }

print_env() {
  echo "export TRADECTL_MYSQL_URL=mysql://tradectl:tradectl@127.0.0.1:$MYSQL_PORT"
  echo "export TRADECTL_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
  echo "export TRADECTL_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
}

# --- helpers ----------------------------------------------------------------

# pid_alive PIDFILE NAME: the pidfile's process runs and is really NAME
# (guards against a stale pidfile whose pid was reused by something else).
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(tr -dc '0-9' <"$1")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

pid_of() { tr -dc '0-9' <"$1"; }

# port_busy PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for SECONDS WHAT PIDFILE NAME CMD...: retry CMD every 0.2 s until it
# succeeds; give up early if the daemon (PIDFILE, NAME) has died.
wait_for() {
  local secs=$1 what=$2 pidfile=$3 name=$4; shift 4
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    pid_alive "$pidfile" "$name" || { sleep 0.5; pid_alive "$pidfile" "$name"; } || return 1
    sleep 0.2
  done
  log "$what"
}

# wait_gone PID NAME SECONDS: wait for the process to exit. By pid, not by
# pidfile: redis and mariadbd delete their pidfile before they are done.
wait_gone() {
  local end=$((SECONDS + $3))
  while [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "$2"; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.1
  done
}

# Detach fully: new session, stdin from /dev/null, output to a log, and the
# pidfile holds the daemon's own pid (bash writes $$ then execs the program).
spawn() {
  local pidfile=$1 logfile=$2; shift 2
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner bash
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
    </dev/null >>"$logfile" 2>&1 &
}

# --- install ----------------------------------------------------------------

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

ensure_packages() {
  local missing="" p
  command -v dpkg-query >/dev/null || {
    log "not a Debian system: assuming $PACKAGES are present"; return 0; }
  for p in $PACKAGES; do installed "$p" || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages:$missing (run 'apt-get install$missing' as root)"
  log "installing:$missing"
  # Keep the packages' own system daemons from starting and grabbing our
  # ports (policy-rc.d is consulted by invoke-rc.d and deb-systemd-invoke).
  local policy=/usr/sbin/policy-rc.d own_policy=""
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy && own_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local rc=0
  # Wait for a concurrent apt/dpkg run instead of failing on its lock.
  local lock=(-o DPkg::Lock::Timeout=600)
  # shellcheck disable=SC2086
  { apt-get "${lock[@]}" update -q && apt-get "${lock[@]}" install -y -q --no-install-recommends $missing; } >&2 || rc=$?
  [ -z "$own_policy" ] || rm -f $policy
  [ $rc -eq 0 ] || die "apt-get install failed"
}

# --- MariaDB ----------------------------------------------------------------

# Shard tables the table cache should hold: a 16 x 256 layout is 12,288 order
# tables plus 16 intents tables; tests and a migration's second layout add more.
# A smaller cache reopens thousands of tables per migrate-shards backfill batch
# (docs/migrate-shards.md, "Sizing the server").
TABLE_CACHE=20000

write_my_cnf() {
  # Tests create many databases (~16*256*3 tables) and want them all open.
  # The caches need file descriptors; if the hard limit is below 65535 (e.g.
  # a container, where even root cannot raise it), size them to fit so that
  # InnoDB never runs into EMFILE (mariadbd would otherwise shrink
  # table_open_cache itself, with a warning, but not innodb_open_files).
  # mysql_up raises table_open_cache back at run time (see there).
  local nofile tables=$TABLE_CACHE innodb_files=20000 files=65535
  nofile=$(ulimit -Hn)
  [ "$nofile" = unlimited ] && nofile=1048576
  if [ "$nofile" -lt 65535 ]; then
    files=$nofile
    innodb_files=$(( nofile - 1500 < 20000 ? nofile - 1500 : 20000 ))
    tables=$(( (nofile - 1000 - 40) / 2 < TABLE_CACHE ? (nofile - 1000 - 40) / 2 : TABLE_CACHE ))
  fi
  # Rewritten on every `up` so port/paths follow the environment.
  cat >"$MY_CNF" <<EOF
# Generated by scripts/services.sh; edits are overwritten.
[mariadbd]
datadir                        = $DATA/mariadb
socket                         = $MY_SOCK
pid-file                       = $MY_PID
port                           = $MYSQL_PORT
bind-address                   = 127.0.0.1
skip-name-resolve
skip-log-bin
log-error                      = $DATA/mariadb.log
# Closer to MySQL 8 (production): utf8mb4, 64M packets, strict dates.
character-set-server           = utf8mb4
collation-server               = utf8mb4_unicode_ci
max_allowed_packet             = 64M
sql_mode                       = STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION
# Test speed over durability: flush the redo log once a second.
innodb_flush_log_at_trx_commit = 2
# A 16 x 256 layout's empty tables alone are ~1 GB of pages (each index has its
# root page); with 1G a backfill into it kept reading evicted pages back.
innodb_buffer_pool_size        = 2G
# A migrate-shards backfill into 16 x 256 writes ~600 MB of redo per 500,000-row batch
# (Innodb_lsn_current): with 256M the checkpoint age hits its limit early in every batch and
# InnoDB flushes pages in the foreground. 1G still reaches the limit late in the second batch;
# docker-compose.yml gives production MySQL 2G, this stays at 1G for test machines' disks.
innodb_log_file_size           = 1G
innodb_io_capacity             = 2000
max_connections                = 1000
# Many test databases: see write_my_cnf (fd hard limit here: $nofile).
table_definition_cache         = 20000
table_open_cache               = $tables
innodb_open_files              = $innodb_files
open_files_limit               = $files
performance_schema             = OFF

[client]
socket                         = $MY_SOCK
port                           = $MYSQL_PORT
EOF
}

# SQL as the OS user over the socket (mariadb-install-db grants root and the
# invoking OS user unix_socket login), so no password is needed.
my_sql() { mariadb --defaults-file="$MY_CNF" -u "$OS_USER" -N -B "$@"; }
my_ping() { mariadb-admin --defaults-file="$MY_CNF" -u "$OS_USER" --connect-timeout=2 ping; }
my_tcp_ok() {
  mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u tradectl -ptradectl \
    --connect-timeout=2 -N -B -e 'SELECT 1'
}

mysql_up() {
  # mariadbd writes its own pidfile only once it is initialised; until then
  # watch the pid recorded at spawn.
  local watch=$MY_PID
  write_my_cnf
  if pid_alive "$MY_PID" mariadbd; then
    log "mariadb already running (pid $(pid_of "$MY_PID"))"
  else
    port_busy "$MYSQL_PORT" && die "port $MYSQL_PORT is taken by another process; stop it or set TRADECTL_MYSQL_PORT"
    rm -f "$MY_PID"
    if [ ! -f "$DATA/mariadb/.initialised" ]; then
      log "initialising $DATA/mariadb"
      rm -rf "$DATA/mariadb"
      # As root mariadbd refuses to run unless told which user to be; running
      # as the invoking user (root in CI) avoids chown games with 'mysql'.
      mariadb-install-db --defaults-file="$MY_CNF" --user="$OS_USER" \
        --skip-test-db --skip-name-resolve --auth-root-authentication-method=socket \
        >>"$DATA/mariadb-install.log" 2>&1 ||
        die "mariadb-install-db failed, see $DATA/mariadb-install.log"
      touch "$DATA/mariadb/.initialised"
    fi
    log "starting mariadb on 127.0.0.1:$MYSQL_PORT"
    watch=$DATA/mariadb.spawn.pid
    (
      # Let mariadbd have as many files as the hard limit allows.
      ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
      spawn "$DATA/mariadb.spawn.pid" "$DATA/mariadb.log" \
        /usr/sbin/mariadbd --defaults-file="$MY_CNF" --user="$OS_USER"
    )
  fi
  wait_for 120 "mariadb is up" "$watch" mariadbd my_ping || die "mariadb did not answer; see $DATA/mariadb.log"
  # Idempotent: ensure the app user exists and may create any database.
  my_sql <<'EOF'
CREATE USER IF NOT EXISTS 'tradectl'@'127.0.0.1' IDENTIFIED BY 'tradectl';
CREATE USER IF NOT EXISTS 'tradectl'@'localhost' IDENTIFIED BY 'tradectl';
CREATE USER IF NOT EXISTS 'tradectl'@'%' IDENTIFIED BY 'tradectl';
GRANT ALL PRIVILEGES ON *.* TO 'tradectl'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'tradectl'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'tradectl'@'%' WITH GRANT OPTION;
EOF
  my_tcp_ok >/dev/null || die "cannot log in as tradectl over TCP 127.0.0.1:$MYSQL_PORT"
  # At start mariadbd caps table_open_cache at (open_files_limit - max_connections) / 2,
  # counting two descriptors per cached table (MyISAM's). A cached InnoDB table holds
  # none (innodb_open_files bounds InnoDB's files, sized above), so under a low hard
  # limit the cache is raised at run time to hold the shard tables.
  my_sql -e "SET GLOBAL table_open_cache = GREATEST(@@table_open_cache, $TABLE_CACHE)" ||
    log "could not raise table_open_cache to $TABLE_CACHE"
}

mysql_down() {
  if pid_alive "$MY_PID" mariadbd; then
    local pid; pid=$(pid_of "$MY_PID")
    log "stopping mariadb"
    my_sql -e 'SHUTDOWN' 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" mariadbd 120 || die "mariadb did not stop; see $DATA/mariadb.log"
  else
    log "mariadb not running"
  fi
  rm -f "$MY_PID" "$DATA/mariadb.spawn.pid"
}

# --- Redis ------------------------------------------------------------------

redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

redis_up() {
  mkdir -p "$DATA/redis"
  if pid_alive "$REDIS_PID" redis-server; then
    log "redis already running (pid $(pid_of "$REDIS_PID"))"
  else
    port_busy "$REDIS_PORT" && die "port $REDIS_PORT is taken by another process; stop it or set TRADECTL_REDIS_PORT"
    rm -f "$REDIS_PID"
    log "starting redis on 127.0.0.1:$REDIS_PORT"
    # Redis daemonizes itself and writes the pidfile; start-up errors that
    # come before it opens its logfile land in the same log.
    # shellcheck disable=SC2094
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DATA/redis" \
      --appendonly yes --appendfsync everysec --save '' \
      --daemonize yes --pidfile "$REDIS_PID" --logfile "$DATA/redis.log" \
      </dev/null >>"$DATA/redis.log" 2>&1 || die "redis-server failed; see $DATA/redis.log"
  fi
  wait_for 30 "redis is up" "$REDIS_PID" redis-server redis_ping || die "redis did not answer; see $DATA/redis.log"
}

redis_down() {
  if pid_alive "$REDIS_PID" redis-server; then
    local pid; pid=$(pid_of "$REDIS_PID")
    log "stopping redis"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown >/dev/null 2>&1 ||
      kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" redis-server 30 || die "redis did not stop; see $DATA/redis.log"
  else
    log "redis not running"
  fi
  rm -f "$REDIS_PID"
}

# --- Kafka (librdkafka mock cluster) ----------------------------------------

kafka_build() {
  # Rebuild only when the source is newer than the binary.
  if [ ! -x "$KAFKA_BIN" ] || [ "$KAFKA_SRC" -nt "$KAFKA_BIN" ]; then
    log "compiling $KAFKA_BIN"
    mkdir -p "$(dirname "$KAFKA_BIN")"
    # shellcheck disable=SC2046
    if ! gcc -O2 -Wall -o "$KAFKA_BIN.tmp" "$KAFKA_SRC" $(pkg-config --cflags --libs rdkafka); then
      die "cannot compile $KAFKA_SRC"
    fi
    mv -f "$KAFKA_BIN.tmp" "$KAFKA_BIN"
  fi
}

# kafka_topics_ok SPEC...: one Metadata round trip (all topics: asking for a
# named topic would auto-create it with 4 partitions) and every topic is there.
kafka_topics_ok() {
  local meta spec
  meta=$(timeout 5 kcat -b "127.0.0.1:$KAFKA_PORT" -L -m 3 2>/dev/null) || return 1
  grep -q 'broker 1 at' <<<"$meta" || return 1
  for spec in "$@"; do
    grep -q "topic \"${spec%%:*}\" with" <<<"$meta" || return 1
  done
}

kafka_ping() {
  if command -v kcat >/dev/null; then
    # shellcheck disable=SC2086
    kafka_topics_ok $KAFKA_TOPICS
  else
    port_busy "$KAFKA_PORT"
  fi
}

kafka_up() {
  kafka_build
  # The broker reads its topics from this file at start and on SIGHUP
  # (see `topic`); keep the defaults and TRADECTL_KAFKA_TOPICS in it.
  local spec
  touch "$KAFKA_TOPICS_FILE"
  for spec in $KAFKA_TOPICS; do
    grep -qxF -- "$spec" "$KAFKA_TOPICS_FILE" || echo "$spec" >>"$KAFKA_TOPICS_FILE"
  done
  if pid_alive "$KAFKA_PID" mock-broker; then
    log "kafka mock broker already running (pid $(pid_of "$KAFKA_PID"))"
    kill -HUP "$(pid_of "$KAFKA_PID")" # picks up new TRADECTL_KAFKA_TOPICS
  else
    port_busy "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process; stop it or set TRADECTL_KAFKA_PORT"
    rm -f "$KAFKA_PID"
    log "starting kafka mock broker on 127.0.0.1:$KAFKA_PORT (topics: $(tr '\n' ' ' <"$KAFKA_TOPICS_FILE"))"
    spawn "$KAFKA_PID" "$DATA/kafka.log" "$KAFKA_BIN" "$KAFKA_PORT" "@$KAFKA_TOPICS_FILE"
  fi
  wait_for 30 "kafka is up" "$KAFKA_PID" mock-broker kafka_ping || die "kafka mock broker did not answer; see $DATA/kafka.log"
}

# topic NAME:PARTITIONS...: create topics on the running broker (the mock
# does not implement the CreateTopics API that admin clients use).
cmd_topic() {
  [ $# -gt 0 ] || die "usage: $0 topic NAME:PARTITIONS..."
  pid_alive "$KAFKA_PID" mock-broker || die "kafka mock broker is not running (run: $0 up)"
  local spec
  for spec in "$@"; do
    [[ $spec =~ ^[A-Za-z0-9._-]+(:[1-9][0-9]*)?$ ]] || die "bad topic spec '$spec' (want NAME:PARTITIONS)"
    grep -qxF -- "$spec" "$KAFKA_TOPICS_FILE" || echo "$spec" >>"$KAFKA_TOPICS_FILE"
  done
  kill -HUP "$(pid_of "$KAFKA_PID")"
  wait_for 10 "topics ready: $*" "$KAFKA_PID" mock-broker kafka_topics_ok "$@" ||
    die "topics did not appear; see $DATA/kafka.log"
}

kafka_down() {
  if pid_alive "$KAFKA_PID" mock-broker; then
    local pid; pid=$(pid_of "$KAFKA_PID")
    log "stopping kafka mock broker"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" mock-broker 10; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  else
    log "kafka mock broker not running"
  fi
  # Its data is gone; topics added with `topic` go too (`up` re-adds defaults).
  rm -f "$KAFKA_PID" "$KAFKA_TOPICS_FILE"
}

# --- commands ---------------------------------------------------------------

cmd_up() {
  ensure_packages
  mkdir -p "$DATA"
  mysql_up
  redis_up
  kafka_up
  print_env
}

cmd_down() {
  # Stop all three even if one fails.
  local rc=0
  [ -d "$DATA" ] || { log "nothing to stop ($DATA does not exist)"; return 0; }
  (kafka_down) || rc=1
  (redis_down) || rc=1
  [ -f "$MY_CNF" ] || write_my_cnf
  (mysql_down) || rc=1
  return $rc
}

cmd_status() {
  local rc=0
  if pid_alive "$MY_PID" mariadbd && my_ping >/dev/null 2>&1; then
    echo "mariadb  up    127.0.0.1:$MYSQL_PORT (pid $(pid_of "$MY_PID"))"
  else echo "mariadb  down"; rc=3; fi
  if pid_alive "$REDIS_PID" redis-server && redis_ping; then
    echo "redis    up    127.0.0.1:$REDIS_PORT (pid $(pid_of "$REDIS_PID"))"
  else echo "redis    down"; rc=3; fi
  if pid_alive "$KAFKA_PID" mock-broker && kafka_ping >/dev/null 2>&1; then
    echo "kafka    up    127.0.0.1:$KAFKA_PORT (pid $(pid_of "$KAFKA_PID"), librdkafka mock)"
  else echo "kafka    down"; rc=3; fi
  return $rc
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) print_env ;;
  topic) shift; cmd_topic "$@" ;;
  *) echo "usage: $0 up|down|status|env|topic NAME:PARTITIONS..." >&2; exit 2 ;;
esac
