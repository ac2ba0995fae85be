# Registries for the push tests. Debian's docker-registry runs on
# 127.0.0.1 with a generated config: open, behind htpasswd Basic
# authentication, or behind the token service of registry-token.py. The
# fault-injecting proxy of registry-proxy.py can sit in front of one.
# Source after common.sh.
# Everything started here stops when the test script exits.

REGISTRY_USER=repack-tester
# A fresh password per run, so no test can pass with a stale one.
REGISTRY_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
REGISTRY_SERVICE=repack-test-registry

# _registry_config DIR PORT AUTH_YAML: write DIR/config.yml.
_registry_config() {
	cat >"$1/config.yml" <<YAML
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $1/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$2
  secret: $(python3 -c 'import secrets; print(secrets.token_hex(16))')
$3
YAML
}

# _start_token_service DIR: start registry-token.py with a new key pair
# and print the auth section of the registry config.
_start_token_service() {
	local dir=$1 port pid
	port=$(free_port)
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=repack-test-token \
		-keyout "$dir/token.key" -out "$dir/token.crt" >/dev/null 2>&1 || return 1
	python3 "$TESTS_DIR/lib/registry-token.py" "$port" "$dir/token.key" "$dir/token.crt" \
		repack-test-issuer "$REGISTRY_SERVICE" "$REGISTRY_USER" "$REGISTRY_PASSWORD" \
		"$dir/token.log" >"$dir/token.out" 2>&1 &
	pid=$!
	echo "$pid" >>"$SERVER_PIDS"
	wait_port "$port" || { echo "the token service did not start: $(cat "$dir/token.out")" >&2; return 1; }
	cat <<YAML
auth:
  token:
    realm: http://127.0.0.1:$port/token
    service: $REGISTRY_SERVICE
    issuer: repack-test-issuer
    rootcertbundle: $dir/token.crt
YAML
}

# start_registry KIND: start docker-registry, KIND open, basic or token,
# and print its address HOST:PORT. Its files are in $WORK/registry-KIND:
# registry.log, and token.log for the token service.
start_registry() {
	local kind=$1 dir=$WORK/registry-$1 port auth="" pid
	mkdir -p "$dir/data"
	port=$(free_port)
	case $kind in
	open) ;;
	basic)
		htpasswd -Bbc "$dir/htpasswd" "$REGISTRY_USER" "$REGISTRY_PASSWORD" >/dev/null 2>&1 ||
			{ echo "htpasswd failed" >&2; return 1; }
		auth=$(printf 'auth:\n  htpasswd:\n    realm: repack-test\n    path: %s/htpasswd' "$dir")
		;;
	token) auth=$(_start_token_service "$dir") || return 1 ;;
	*) echo "start_registry: unknown kind '$kind'" >&2; return 1 ;;
	esac
	_registry_config "$dir" "$port" "$auth"
	docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
	pid=$!
	echo "$pid" >>"$SERVER_PIDS"
	wait_port "$port" || { echo "docker-registry did not start: $(tail -5 "$dir/registry.log")" >&2; return 1; }
	echo "127.0.0.1:$port"
}

# start_fault_proxy TARGET NAME: start registry-proxy.py in front of the
# registry at TARGET (HOST:PORT) and print its address. Its rules file is
# $WORK/proxy-NAME.rules (see set_faults) and its request log
# $WORK/proxy-NAME.log.
start_fault_proxy() {
	local target_port=${1##*:} name=$2 port pid
	port=$(free_port)
	: >"$WORK/proxy-$name.log"
	python3 "$TESTS_DIR/lib/registry-proxy.py" "$port" "$target_port" \
		"$WORK/proxy-$name.rules" "$WORK/proxy-$name.log" >"$WORK/proxy-$name.out" 2>&1 &
	pid=$!
	echo "$pid" >>"$SERVER_PIDS"
	wait_port "$port" || { echo "the proxy did not start: $(cat "$WORK/proxy-$name.out")" >&2; return 1; }
	echo "127.0.0.1:$port"
}

# set_faults NAME JSON: replace the rules of proxy NAME; "[]" clears them.
# The rules file is written through a rename, so the proxy never reads
# half a file.
set_faults() {
	printf '%s\n' "$2" >"$WORK/proxy-$1.rules.tmp" && mv "$WORK/proxy-$1.rules.tmp" "$WORK/proxy-$1.rules"
}

# proxy_log_mark NAME: print the number of lines in the proxy's log, so a
# later proxy_log_since shows only newer requests.
proxy_log_mark() { wc -l <"$WORK/proxy-$1.log"; }
# proxy_log_since NAME MARK: the log lines after MARK.
proxy_log_since() { tail -n +"$(($2 + 1))" "$WORK/proxy-$1.log"; }
