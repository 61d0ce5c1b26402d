#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the test suite; prints the URL to
# use (for CATALYST_TEST_PG_URL) on the last line of stdout. Progress goes to stderr.
#
#   1. server already answering     -> touch nothing, print a URL that logs in
#   2. installed but stopped        -> start the cluster on port 5432 (creating one if none)
#   3. not installed (Debian/Ubuntu) -> apt-get install postgresql (as root), then start it
# After 2 or 3: if user postgres cannot log in over TCP without a password (Debian's default is
# scram), create a local test role with a password instead of loosening pg_hba.conf.
set -euo pipefail

HOST=127.0.0.1
PORT="${CATALYST_TEST_PG_PORT:-5432}"
DEFAULT_URL="postgresql+asyncpg://postgres@${HOST}:${PORT}/postgres"
TEST_ROLE=catalyst_test
TEST_PASSWORD=catalyst-test-pw # local-only throwaway role for tests; the server listens on localhost

say() { echo "ensure_postgres: $*" >&2; }
die() {
    say "$*"
    exit 1
}

ready() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$HOST" -p "$PORT"; }

if [[ -n "${CATALYST_TEST_PG_URL:-}" ]]; then
    # Someone chose a server explicitly: it is theirs to run.
    echo "$CATALYST_TEST_PG_URL"
    exit 0
fi

can_login() { # user password: a read-only probe over TCP, no prompt
    command -v psql >/dev/null 2>&1 &&
        PGPASSWORD="$2" PGCONNECT_TIMEOUT=5 psql -w -qAt \
            "host=$HOST port=$PORT user=$1 dbname=postgres" -c 'select 1' >/dev/null 2>&1
}

print_url() {
    if can_login postgres ""; then
        echo "$DEFAULT_URL"
    elif can_login "$TEST_ROLE" "$TEST_PASSWORD"; then
        echo "postgresql+asyncpg://${TEST_ROLE}:${TEST_PASSWORD}@${HOST}:${PORT}/postgres"
    else
        return 1
    fi
}

if ready; then
    print_url || {
        say "server is up but neither postgres nor $TEST_ROLE can log in over TCP; using the default"
        echo "$DEFAULT_URL"
    }
    exit 0
fi

as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        die "need root (or passwordless sudo) to run: $*"
    fi
}

if ! command -v pg_lsclusters >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and apt-get is unavailable"
    say "installing PostgreSQL (apt-get)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# The cluster on our port, if any ("ver name port status ..." per line).
cluster_line() { pg_lsclusters --no-header 2>/dev/null | awk -v port="$PORT" '$3 == port' | head -n 1; }

line="$(cluster_line)"
if [[ -z "$line" ]]; then
    version="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)"
    [[ -n "$version" ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql"
    name=main
    [[ -e "/etc/postgresql/$version/main" ]] && name=catalyst_test # main lives on another port
    say "creating cluster $version/$name on port $PORT"
    as_root pg_createcluster --port "$PORT" "$version" "$name" >/dev/null
    line="$(cluster_line)"
fi
read -r version cluster _port status _rest <<<"$line"
if [[ "$status" != online* ]]; then
    say "starting cluster $version/$cluster"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start >/dev/null
fi

for _ in $(seq 1 60); do
    ready && break
    sleep 0.5
done
ready || die "PostgreSQL did not come up on $HOST:$PORT"

# Can the default URL's user log in over TCP without a password (CI: trust on 127.0.0.1)?
print_url && exit 0

# No: make a password role (via the local socket, where the postgres OS user has peer auth).
say "creating role $TEST_ROLE for password login over TCP"
as_root runuser -u postgres -- sh -c "cd / && psql -p $PORT -qAt -v ON_ERROR_STOP=1" >/dev/null <<SQL
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TEST_ROLE') THEN
        CREATE ROLE $TEST_ROLE LOGIN CREATEDB PASSWORD '$TEST_PASSWORD';
    ELSE
        ALTER ROLE $TEST_ROLE LOGIN CREATEDB PASSWORD '$TEST_PASSWORD';
    END IF;
END
\$\$;
SQL
print_url || die "role $TEST_ROLE was created but cannot log in over TCP on $HOST:$PORT"
