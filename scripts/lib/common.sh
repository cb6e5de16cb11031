# Shared by scripts/run, scripts/test and bench/run: packages, build, private servers, cleanup.
# Sourced, not executed. Everything started here is stopped by sonae_cleanup (trap it).
set -euo pipefail

SONAE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SONAE_PACKAGES=(
  build-essential cmake pkg-config ccache curl iproute2 jq
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
  libhiredis-dev librabbitmq-dev nlohmann-json3-dev libspdlog-dev doctest-dev libyaml-cpp-dev
  libssl-dev libvalijson-dev libkainjow-mustache-dev libcli11-dev libcurl4-openssl-dev
  libutf8proc-dev libcsv-dev libcmark-gfm-dev libcmark-gfm-extensions-dev
  redis-server rabbitmq-server
)
# What only the tests need: a real SMTP server, openssl for test keys, Prometheus (and
# promtool) to scrape the services, and headless Chromium with Node.js for the browser tests
# (tests/browser; a Japanese font so that screenshots show text).
SONAE_TEST_PACKAGES=(python3-aiosmtpd openssl prometheus chromium nodejs fonts-ipafont-gothic redis-sentinel)
# Debian's npm, unless a Node.js that bundles its own (NodeSource's, which conflicts with it) is
# already there.
command -v npm >/dev/null 2>&1 || SONAE_TEST_PACKAGES+=(npm)
SONAE_PGIDS=()

log() { printf '\033[1;34m[sonae]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[sonae]\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

# Installs whatever is missing from the list (plus extra arguments), without prompting.
ensure_packages() {
  local missing=() p
  for p in "${SONAE_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing: ${missing[*]}"
  # The rabbitmq-server package tries to start a system service; we run our own private node.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    created_policy=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$created_policy" -eq 1 ] && as_root rm -f "$policy"
  # Debian's package leaves its own epmd behind when it could start it; ours use private ports.
  return 0
}

# npm ci into DIR/node_modules (the browser tests' playwright-core, pinned by DIR's
# package-lock.json) unless it is already installed from the current lock file.
ensure_node_modules() {
  local dir="$1"
  if [ -f "$dir/node_modules/.package-lock.json" ] &&
     [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    return 0
  fi
  log "npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
}

# sonae_build DIR TYPE [cmake args...] [-- targets...]: configure once, build incrementally.
sonae_build() {
  local dir="$1" type="$2"; shift 2
  local -a args=() targets=()
  while [ $# -gt 0 ]; do
    if [ "$1" = "--" ]; then shift; targets=("$@"); break; fi
    args+=("$1"); shift
  done
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S "$SONAE_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE="$type" "${args[@]}" >/dev/null
  else
    cmake "$dir" -DCMAKE_BUILD_TYPE="$type" "${args[@]}" >/dev/null
  fi
  if [ ${#targets[@]} -gt 0 ]; then
    cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"
  else
    cmake --build "$dir" -j "$(nproc)"
  fi
}

port_in_use() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

# A port no socket uses, from below the kernel's ephemeral range (above it if that range starts
# low): a port handed out from inside that range can be taken by any outbound connection before
# its server binds it, as a broker's distribution port once was in CI.
free_port() {
  local eph_low eph_high lo hi p
  read -r eph_low eph_high < /proc/sys/net/ipv4/ip_local_port_range
  if [ "$eph_low" -gt 11024 ]; then lo=10000; hi=$((eph_low - 1)); else lo=$((eph_high + 1)); hi=65535; fi
  for _ in $(seq 1 200); do
    p=$(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1) ))
    ss -Htan "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
  done
  die "no free port found"
}

# Starts a command in its own process group (so that everything it forks can be stopped).
spawn() {
  local logfile="$1"; shift
  setsid "$@" >>"$logfile" 2>&1 < /dev/null &
  SONAE_PGIDS+=("$!")
  echo "$!"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local limit="$1" what="$2"; shift 2
  wait_until "$limit" "$@" || die "$what did not answer within ${limit}s"
}

wait_until() {  # wait_until SECONDS COMMAND...: 0 once COMMAND succeeds, 1 after SECONDS
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

redis_answers() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = "PONG" ]; }

# A broker answers the AMQP 0-9-1 protocol header with a connection.start frame (type 1).
amqp_answers() {
  local port="$1" reply
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf 'AMQP\x00\x00\x09\x01' >&3
  reply=$(timeout 2 head -c 1 <&3 | od -An -tx1 | tr -d ' ')
  exec 3<&- 3>&-
  [ "$reply" = "01" ]
}

# start_redis DATA_DIR PORT [persist=yes|no]
start_redis() {
  local dir="$1" port="$2" persist="${3:-yes}"
  mkdir -p "$dir"
  spawn "$dir/redis.log" redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" \
    --save "" --appendonly "$persist" --daemonize no --protected-mode yes >/dev/null
  wait_for 20 "redis on port $port" redis_answers "$port"
}

# start_rabbitmq DATA_DIR PORT: a private node running as the rabbitmq user, with its own epmd.
# A member of a private cluster (tests/faults/cluster_test.cpp) takes, from the environment:
#   SONAE_RABBITMQ_EPMD_PORT       an epmd the caller runs and every member shares (instead of
#                                  the node's own: members find each other's ports through it)
#   SONAE_RABBITMQ_COOKIE          the cluster's Erlang cookie, written to DATA_DIR/.erlang.cookie
#   SONAE_RABBITMQ_CLUSTER_NODES   the members' node names (sonae<PORT>@localhost), separated by
#                                  spaces: classic_config peer discovery joins a running one
# DATA_DIR/ctl then runs a CLI tool against the node, e.g. `ctl rabbitmqctl cluster_status`.
start_rabbitmq() {
  local dir="$1" port="$2"
  local node="sonae${port}@localhost"
  mkdir -p "$dir/mnesia" "$dir/log"
  printf '[].\n' > "$dir/enabled_plugins"
  : > "$dir/rabbitmq-env.conf"
  printf 'log.console = false\nlog.file.level = warning\n' > "$dir/rabbitmq.conf"
  if [ -n "${SONAE_RABBITMQ_CLUSTER_NODES:-}" ]; then
    printf 'cluster_formation.peer_discovery_backend = classic_config\n' >> "$dir/rabbitmq.conf"
    local i=0 member
    for member in $SONAE_RABBITMQ_CLUSTER_NODES; do
      i=$((i + 1))
      printf 'cluster_formation.classic_config.nodes.%d = %s\n' "$i" "$member" >> "$dir/rabbitmq.conf"
    done
  fi
  # More rabbitmq.conf lines, e.g. a TLS listener (tests/integration/tls_test.cpp).
  [ -z "${SONAE_RABBITMQ_EXTRA_CONF:-}" ] || printf '%s\n' "$SONAE_RABBITMQ_EXTRA_CONF" >> "$dir/rabbitmq.conf"
  if [ -n "${SONAE_RABBITMQ_COOKIE:-}" ]; then
    rm -f "$dir/.erlang.cookie"
    printf '%s' "$SONAE_RABBITMQ_COOKIE" > "$dir/.erlang.cookie"
    chmod 400 "$dir/.erlang.cookie"
  fi
  as_root chown -R rabbitmq:rabbitmq "$dir"
  local -a as_rabbit
  if [ "$(id -u)" -eq 0 ]; then as_rabbit=(runuser -u rabbitmq --); else as_rabbit=(sudo -n -u rabbitmq); fi
  # The distribution and epmd ports are ours to pick, and another process may bind one between
  # the pick and the node's start (the boot then fails with dist_port_already_used): such a boot
  # is tried again on other ports.
  local attempt dist epmd epmd_pg server_pg
  local -a envs
  for attempt in 1 2 3; do
    dist=$(free_port); epmd="${SONAE_RABBITMQ_EPMD_PORT:-$(free_port)}"
    envs=(
      HOME="$dir" ERL_EPMD_PORT="$epmd"
      RABBITMQ_NODENAME="$node" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$port"
      RABBITMQ_DIST_PORT="$dist" RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log"
      RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
      RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" RABBITMQ_PID_FILE="$dir/rabbitmq.pid"
      # Idle Erlang schedulers spin by default, taking CPU from Redis and sonae on a small box
      # (SONAE_RABBITMQ_ERL_ARGS replaces these flags, e.g. empty to compare).
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="${SONAE_RABBITMQ_ERL_ARGS-+sbwt none +sbwtdcpu none +sbwtdio none}"
    )
    # Our own epmd in the foreground of our process group: the node's would daemonize and linger.
    epmd_pg=""
    if [ -z "${SONAE_RABBITMQ_EPMD_PORT:-}" ]; then
      spawn "$dir/log/epmd.log" "${as_rabbit[@]}" env ERL_EPMD_PORT="$epmd" epmd -port "$epmd" >/dev/null
      epmd_pg="${SONAE_PGIDS[-1]}"
    fi
    # A node started before its epmd listens fails with 'nodistribution' (seen in the fault suite).
    if ! wait_until 10 port_in_use "$epmd"; then
      [ -z "$epmd_pg" ] || as_root kill -TERM -- "-$epmd_pg" 2>/dev/null || true
      log "epmd on port $epmd did not answer within 10s (attempt $attempt of 3)"
      continue
    fi
    spawn "$dir/log/server.log" "${as_rabbit[@]}" env "${envs[@]}" /usr/lib/rabbitmq/bin/rabbitmq-server >/dev/null
    server_pg="${SONAE_PGIDS[-1]}"
    # The CLI tools need the node's epmd, cookie (its HOME) and name. Written while the node
    # boots: a cluster's members are asked about it before it answers AMQP (cluster_test).
    {
      printf '#!/bin/bash\n# ctl TOOL ARGS...: rabbitmqctl, rabbitmq-queues or rabbitmq-diagnostics against %s\n' "$node"
      printf 'tool="$1"; shift\nexec'
      printf ' %q' "${as_rabbit[@]}" env HOME="$dir" ERL_EPMD_PORT="$epmd"
      printf ' "/usr/lib/rabbitmq/bin/$tool" -n %q "$@"\n' "$node"
    } | as_root tee "$dir/ctl" >/dev/null
    as_root chmod 755 "$dir/ctl"
    # Up when it answers AMQP; failed when its process ended first.
    wait_until 90 amqp_up_or_gone "$port" "$server_pg" || die "rabbitmq on port $port did not answer within 90s"
    if amqp_answers "$port" 2>/dev/null; then
      SONAE_RABBIT_ENV=("${envs[@]}")
      SONAE_RABBIT_NODE="$node"
      return 0
    fi
    as_root kill -TERM -- "-$server_pg" 2>/dev/null || true
    [ -z "$epmd_pg" ] || as_root kill -TERM -- "-$epmd_pg" 2>/dev/null || true
    log "rabbitmq on port $port stopped while booting (attempt $attempt of 3): $(grep -o 'ERROR: .*' "$dir/log/server.log" | tail -1)"
  done
  die "rabbitmq on port $port did not start in 3 attempts (logs in $dir/log)"
}

# amqp_up_or_gone PORT PID: the broker answers on PORT, or its process PID has ended.
# (/proc, not kill -0: the process is sudo's, which a user may not signal.)
amqp_up_or_gone() { amqp_answers "$1" || [ ! -e "/proc/$2" ]; }

sonae_cleanup() {
  local pg
  for pg in "${SONAE_PGIDS[@]:-}"; do
    [ -n "$pg" ] && as_root kill -TERM -- "-$pg" 2>/dev/null || true
  done
  local deadline=$(( $(date +%s) + 15 ))
  for pg in "${SONAE_PGIDS[@]:-}"; do
    [ -z "$pg" ] && continue
    while as_root kill -0 -- "-$pg" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.1; done
    as_root kill -KILL -- "-$pg" 2>/dev/null || true
  done
  SONAE_PGIDS=()
}
