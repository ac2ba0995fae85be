# Shared helpers for the integration scripts. Each script sources this file,
# records cases with pass/fail/skip and runs repack as "$REPACK".
set -u

: "${REPACK:?}"
: "${RESULTS:=/dev/null}"
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOP_DIR=$(cd "$TESTS_DIR/.." && pwd)
export REPACK_DATA_DIR="$TOP_DIR/data"
# Downloaded real packages survive between runs here.
TEST_CACHE=${REPACK_TEST_CACHE:-$TOP_DIR/build/test-cache}
mkdir -p "$TEST_CACHE"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/repack-test.XXXXXX")
cleanup_hooks=()
# Servers started in $(...) subshells record their pids here, because a
# hook registered inside a subshell is lost when the subshell ends.
SERVER_PIDS=$WORK/.server-pids
on_exit() {
	local hook pid i alive
	for hook in "${cleanup_hooks[@]}"; do
		eval "$hook" || true
	done
	if [ -f "$SERVER_PIDS" ]; then
		while read -r pid; do
			kill "$pid" 2>/dev/null
		done <"$SERVER_PIDS"
		for i in $(seq 1 20); do
			alive=0
			while read -r pid; do
				kill -0 "$pid" 2>/dev/null && alive=1
			done <"$SERVER_PIDS"
			[ "$alive" = 0 ] && break
			sleep 0.1
		done
	fi
	rm -rf "$WORK"
}
trap on_exit EXIT
at_exit() { cleanup_hooks+=("$1"); }

pass() { echo "PASS $1" >>"$RESULTS"; echo "PASS $1"; }
fail() { echo "FAIL $1: ${2:-}" >>"$RESULTS"; echo "FAIL $1: ${2:-}"; }
skip() { echo "SKIP $1: ${2:-}" >>"$RESULTS"; echo "SKIP $1: ${2:-}"; }

# check NAME COMMAND...: the case passes when the command succeeds.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi
}

# expect_status NAME WANT COMMAND...: run the command, compare its exit
# status; its stderr is kept in $WORK/last.err for later checks.
expect_status() {
	local name=$1 want=$2 got
	shift 2
	"$@" >"$WORK/last.out" 2>"$WORK/last.err"
	got=$?
	if [ "$got" = "$want" ]; then
		pass "$name"
	else
		fail "$name" "exit status $got, expected $want; stderr: $(head -c 600 "$WORK/last.err")"
	fi
}

# expect_stderr NAME PATTERN: the last stderr matches the extended regex.
expect_stderr() {
	if grep -Eq -- "$2" "$WORK/last.err"; then
		pass "$1"
	else
		fail "$1" "stderr does not match '$2': $(head -c 600 "$WORK/last.err")"
	fi
}

# free_port: print a TCP port on 127.0.0.1 that no process listens on.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT: wait up to 10 s for something to listen on PORT.
wait_port() {
	local i
	for i in $(seq 1 100); do
		if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# serve_dir DIR: serve DIR read-only over HTTP on 127.0.0.1 with nginx and
# print the base URL. nginx stops when the script exits.
serve_dir() {
	local root=$1 port conf
	port=$(free_port)
	conf=$(mktemp -d "$WORK/nginx.XXXXXX")
	mkdir -p "$conf/tmp"
	local user_line=""
	# Workers run as the unprivileged user by default, but the test tree is private.
	[ "$(id -u)" = 0 ] && user_line="user root;"
	cat >"$conf/nginx.conf" <<NGINX
$user_line
daemon off;
worker_processes 1;
pid $conf/nginx.pid;
error_log $conf/error.log;
events { worker_connections 64; }
http {
	access_log $conf/access.log;
	client_body_temp_path $conf/tmp;
	proxy_temp_path $conf/tmp;
	fastcgi_temp_path $conf/tmp;
	uwsgi_temp_path $conf/tmp;
	scgi_temp_path $conf/tmp;
	types { }
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$port;
		root $root;
		autoindex on;
	}
}
NGINX
	/usr/sbin/nginx -c "$conf/nginx.conf" -e "$conf/error.log" </dev/null >/dev/null 2>&1 &
	local pid=$!
	echo "$pid" >>"$SERVER_PIDS"
	wait_port "$port" || { echo "nginx did not start: $(cat "$conf/error.log")" >&2; return 1; }
	echo "http://127.0.0.1:$port"
}

# need_command CMD PACKAGE: under CI install the package when CMD is
# missing; elsewhere return 1 so the caller can skip.
need_command() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "${CI:-}" = true ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null && return 0
	fi
	return 1
}
