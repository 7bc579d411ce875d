#!/bin/sh
# Run by the compose `preflight` service before anything else starts: a stack with missing broker
# logins or placeholder secrets stops here with a message saying what to do, instead of Mosquitto
# exiting 13 and every other service waiting on it. POSIX sh (the Mosquitto image's busybox).
#
# Environment: the secret names to check in CHECK_NAMES (space-separated), each set from .env;
# AUTH_DIR (default /mosquitto/auth); ALERT_WEBHOOK_URL (checked unless CHECK_WEBHOOK=0);
# CHECK_LOGINS: broker logins that must be in the passwd file (the lorawan profile's check, whose
# secrets compose cannot require without breaking every `up` that does not use the profile);
# LOGINS_HINT: the command that adds them.
set -u
auth_dir=${AUTH_DIR:-/mosquitto/auth}
problems=0

fail() {
    echo "preflight: $*" >&2
    problems=$((problems + 1))
}

for file in passwd acl; do
    if [ ! -s "$auth_dir/$file" ]; then
        fail "no broker $file file: run 'python3 deploy/mosquitto/credentials.py init --env-file .env' first"
    fi
done

for login in ${CHECK_LOGINS:-}; do
    if [ -s "$auth_dir/passwd" ] && ! grep -q "^$login:" "$auth_dir/passwd"; then
        fail "no broker login $login: run '${LOGINS_HINT:-python3 deploy/mosquitto/credentials.py init --env-file .env}'"
    fi
done

for name in ${CHECK_NAMES:-}; do
    eval "value=\${$name:-}"
    case "$value" in
        "") fail "$name is empty: set it in .env" ;;
        change-me|*change-me*) fail "$name is still the change-me placeholder: set a real secret in .env" ;;
    esac
    if [ "${#value}" -gt 0 ] && [ "${#value}" -lt 12 ]; then
        fail "$name is shorter than 12 characters"
    fi
done

[ "${CHECK_WEBHOOK:-1}" = 0 ] || case "${ALERT_WEBHOOK_URL:-}" in
    "") fail "GRAFANA_ALERT_WEBHOOK_URL is empty: set the webhook Grafana posts fire alerts to in .env" ;;
    *example.invalid*) fail "GRAFANA_ALERT_WEBHOOK_URL is still the placeholder: set your pager/chat webhook in .env" ;;
    http://*|https://*) ;;
    *) fail "GRAFANA_ALERT_WEBHOOK_URL must start with http:// or https://" ;;
esac

if [ "$problems" -gt 0 ]; then
    echo "preflight: $problems problem(s); nothing was started" >&2
    exit 1
fi
echo "preflight: broker logins and secrets look set"
