# Installs what Baton needs on a Debian machine, when missing: PostgreSQL server and libpq-dev.
# Sourced by scripts/dev and scripts/test.
baton_ensure_deps() {
    local missing=()
    pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev)
    [ -n "$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | head -1)" ] || missing+=(postgresql)
    command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    [ ${#missing[@]} -eq 0 ] && return 0
    baton_apt_install "${missing[@]}"
}

# Installs Debian packages, through sudo unless we are root.
baton_apt_install() {
    echo "installing: $*" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >&2
    $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

# The newest PostgreSQL server bin folder (Debian keeps them off PATH).
baton_pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

# Runs a command as the postgres OS user when we are root (initdb refuses root), from / since
# postgres may not be allowed into the caller's folder (give it absolute paths).
baton_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# A TCP port nobody listens on, near $1.
baton_free_port() {
    local port=${1:-55432}
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    echo "$port"
}

# Installs Debian's PgBouncer when missing (the pooler tests run through it).
baton_ensure_pgbouncer() {
    command -v pgbouncer >/dev/null 2>&1 && return 0
    baton_apt_install pgbouncer
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    # Debian starts a system-wide instance; Baton's scripts run their own.
    $sudo systemctl disable --now pgbouncer >/dev/null 2>&1 || $sudo service pgbouncer stop >/dev/null 2>&1 || true
}

# Installs Debian's Node.js when missing (one of the handler examples is in JavaScript).
baton_ensure_node() {
    command -v node >/dev/null 2>&1 && return 0
    baton_apt_install nodejs
}

# Installs Debian's Chromium and its WebDriver when missing (the dashboard's browser tests and
# scripts/screenshots drive it headless through Selenium).
baton_ensure_chromium() {
    command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && return 0
    baton_apt_install chromium chromium-driver
}

# Creates (does not start) a throwaway cluster in DIR, owned by postgres when we are root,
# to listen on 127.0.0.1:PORT, and writes DIR/ctl, a script that starts and stops it:
#   DIR/ctl start | stop | restart | kill
# Extra arguments are `-c name=value` server settings.
baton_pg_cluster() {
    local dir=$1 port=$2
    shift 2
    local pgbin
    pgbin=$(baton_pg_bin)
    mkdir -p "$dir"
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    baton_as_pg "$pgbin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-instructions >/dev/null
    local as_pg=""
    [ "$(id -u)" -eq 0 ] && as_pg="runuser -u postgres --"
    cat > "$dir/ctl" <<CTL
#!/bin/sh
# start | stop | restart the cluster in $dir (fast shutdown: sessions are cut, as in an outage).
set -e
cd /  # the postgres user may not be allowed into the caller's folder
case "\$1" in
  start) $as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $*" start >/dev/null ;;
  stop) $as_pg "$pgbin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null ;;
  kill) $as_pg "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true ;;
  restart) "\$0" stop; "\$0" start ;;
  *) echo "usage: \$0 start|stop|restart|kill" >&2; exit 2 ;;
esac
CTL
    chmod 755 "$dir/ctl"
}

# Starts PgBouncer in transaction pooling mode on 127.0.0.1:PORT in front of the server at
# 127.0.0.1:SERVER_PORT (every database, as user postgres); its files go to DIR.
baton_pgbouncer() {
    local dir=$1 port=$2 server_port=$3
    mkdir -p "$dir"
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    cat > "$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$server_port user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir = $dir
auth_type = any
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir/pgbouncer.ini"
    baton_as_pg pgbouncer -d -q "$dir/pgbouncer.ini"
}

# Prints the path of a Python that has the examples' packages (examples/requirements.txt), in
# .venv-examples/, made once (again when the requirements change) from Debian's own python3:
# its sqlite3 module can load extensions, which sqlite-vec needs (a python built without that,
# such as pyenv's, cannot). Installs python3 and python3-venv when missing.
baton_examples_python() {
    local venv=.venv-examples python=/usr/bin/python3
    if ! "$python" -c "import ensurepip, sqlite3; sqlite3.connect(':memory:').enable_load_extension" >/dev/null 2>&1; then
        baton_apt_install python3 python3-venv
    fi
    if [ ! -x "$venv/bin/python" ] || ! cmp -s examples/requirements.txt "$venv/.requirements"; then
        echo "preparing $venv (examples/requirements.txt)" >&2
        rm -rf "$venv"
        "$python" -m venv "$venv" >&2
        "$venv/bin/pip" install -q --disable-pip-version-check -r examples/requirements.txt >&2
        cp examples/requirements.txt "$venv/.requirements"
    fi
    echo "$PWD/$venv/bin/python"
}
