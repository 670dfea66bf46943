#!/usr/bin/env bash
# End-to-end test of the stub's control API from shell, knowing only the
# routes of docs/control-api.md. Usage: control.sh BASEURL EXPIRY_BASEURL
# where the second stub runs with --token-ttl 1s. Needs bash and curl.
set -euo pipefail
B=${1:?usage: control.sh BASEURL EXPIRY_BASEURL}
E=${2:?usage: control.sh BASEURL EXPIRY_BASEURL}
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# expect NAME WANT GOT
expect() { if [ "$2" != "$3" ]; then fail "$1: got '$3', want '$2'"; else echo "ok: $1"; fi; }
# contains NAME NEEDLE HAYSTACK
contains() { case "$3" in *"$2"*) echo "ok: $1" ;; *) fail "$1: '$2' not in '$3'" ;; esac; }
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

I1='{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","name":"jira_prod","type_id":"jira","created_at":"2022-03-09T08:40:18Z","sharing_data":{"direction":"not_shared"}}'
I2='{"id":"0b0c8d2e-4c1a-4f5e-9d7a-2b3c4d5e6f70","name":"slack_ops","type_id":"slack","created_at":"2023-01-02T03:04:05Z","sharing_data":{"direction":"not_shared"}}'

# Two workspaces, each with its own data and token.
t1=$(curl -s -X POST "$B/__stub/workspaces" -d '{"id":"e2e1"}' | field token)
t2=$(curl -s -X POST "$B/__stub/workspaces" -d '{"id":"e2e2"}' | field token)
[ -n "$t1" ] && [ -n "$t2" ] && [ "$t1" != "$t2" ] || fail "two workspaces with distinct tokens"
expect "PUT e2e1" '{"integrations":1}' "$(curl -s -X PUT "$B/__stub/workspaces/e2e1/integrations" -d "{\"integrations\":[$I1]}")"
expect "PUT e2e2" '{"integrations":1}' "$(curl -s -X PUT "$B/__stub/workspaces/e2e2/integrations" -d "{\"integrations\":[$I2]}")"
l1=$(curl -s -H "Authorization: Bearer $t1" "$B/public/v1alpha/integrations")
l2=$(curl -s -H "Authorization: Bearer $t2" "$B/public/v1alpha/integrations")
contains "e2e1 sees its data" jira_prod "$l1"
case "$l1" in *slack_ops*) fail "e2e1 sees e2e2's data" ;; esac
contains "e2e2 sees its data" slack_ops "$l2"
case "$l2" in *jira_prod*) fail "e2e2 sees e2e1's data" ;; esac

# A bad item is refused, naming the field, and nothing changes.
bad=$(curl -s -w ' %{http_code}' -X PUT "$B/__stub/workspaces/e2e1/integrations" -d "{\"integrations\":[$I1,{\"id\":\"nope\"}]}")
contains "bad item is 400" ' 400' "$bad"
contains "bad item names the field" '"field":"integrations[1].id"' "$bad"
contains "bad item is a BadRequest" 'google.rpc.BadRequest' "$bad"
contains "nothing changed" '{"id":"e2e1","integrations":1}' "$(curl -s "$B/__stub/workspaces")"

# The journal holds the workspace's requests, with a warning for a typo.
curl -s -o /dev/null -H "Authorization: Bearer $t1" "$B/public/v1alpha/integrations?tpye_id=jira"
j=$(curl -s "$B/__stub/requests?workspace=e2e1&limit=1")
contains "journal has the request" '"query":"tpye_id=jira"' "$j"
contains "journal warns of the typo" 'tpye_id' "$(echo "$j" | sed -n 's/.*"warnings":\[\([^]]*\)\].*/\1/p')"
contains "journal entry is e2e1's" '"workspace":"e2e1"' "$j"

# Scripts: e2e1 answers 503, 503, 200, then normally; e2e2 has its own script.
s=$(curl -s -X POST "$B/__stub/scripts" -d '{"workspace":"e2e1","steps":[{"status":503},{"status":503},{"pass":true}]}' -w ' %{http_code}')
contains "script e2e1 created" ' 201' "$s"
s=$(curl -s -X POST "$B/__stub/scripts" -d '{"workspace":"e2e2","steps":[{"status":429}]}' -w ' %{http_code}')
contains "script e2e2 created" ' 201' "$s"
got=""
for _ in 1 2 3 4; do
	got="$got $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t1" "$B/public/v1alpha/integrations")"
done
expect "e2e1 script" " 503 503 200 200" "$got"
expect "e2e2 its own script" "429" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t2" "$B/public/v1alpha/integrations")"
expect "e2e2 then normal" "200" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t2" "$B/public/v1alpha/integrations")"

# Faults: a reset is a connection error, a truncate a cut body.
curl -s -o /dev/null -X POST "$B/__stub/scripts" -d '{"workspace":"e2e1","steps":[{"fault":"reset"}]}'
rc=0; curl -s -o /dev/null -H "Authorization: Bearer $t1" "$B/public/v1alpha/integrations" || rc=$?
case $rc in 52 | 56) echo "ok: reset is a connection error (curl $rc)" ;; *) fail "reset: curl exit $rc, want 52 or 56" ;; esac
curl -s -o /dev/null -X POST "$B/__stub/scripts" -d '{"workspace":"e2e1","steps":[{"fault":"truncate"}]}'
rc=0; curl -s -o /dev/null -H "Authorization: Bearer $t1" "$B/public/v1alpha/integrations" || rc=$?
expect "truncate is a cut body (curl 18)" 18 "$rc"

# Deleting a workspace: its token is 401 from then on.
expect "delete e2e2" 204 "$(curl -s -X DELETE "$B/__stub/workspaces/e2e2" -o /dev/null -w '%{http_code}')"
expect "deleted token" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t2" "$B/public/v1alpha/integrations")"

# Reset: the stub is as at start (e2e1 gone, journal empty).
expect "reset" 204 "$(curl -s -X POST "$B/__stub/reset" -o /dev/null -w '%{http_code}')"
expect "e2e1 gone after reset" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t1" "$B/public/v1alpha/integrations")"
ws=$(curl -s "$B/__stub/workspaces")
case "$ws" in *e2e*) fail "workspaces after reset: $ws" ;; *) echo "ok: no e2e workspace after reset" ;; esac

# An expired issued token is 302 by default (the second stub: --token-ttl 1s).
tok=$(curl -s -u 'torq-stub-client-id:torq-stub-client-secret' -d grant_type=client_credentials "$E/v1/auth/token" | field access_token)
[ -n "$tok" ] || fail "no token from $E/v1/auth/token"
expect "fresh token" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "$E/public/v1alpha/integrations")"
sleep 2
expect "expired token" 302 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "$E/public/v1alpha/integrations")"

if [ "$fails" -gt 0 ]; then
	echo "$fails check(s) failed" >&2
	exit 1
fi
echo "all checks passed"
