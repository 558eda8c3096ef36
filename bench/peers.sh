#!/usr/bin/env bash
# make bench-peers: ../shared/peers/bench.py (its README) run on this tree.
# Sets up what that harness needs once: its venv in $PEERS_HOME, the
# PostgreSQL role and database it measures on (the role may create the
# project's database beside it), and a copy of production.ini that trusts
# localhost and signs cursors with a throw-away secret, as its README asks.
set -euo pipefail
: "${PEERS:?}" "${PEERS_HOME:?}" "${PROJECT:?}" "${PYTHON:=python3}"
if [ ! -f "$PEERS/bench.py" ]; then
  echo "make bench-peers: no harness at $PEERS (set PEERS=...); nothing measured"
  exit 0
fi
command -v wrk >/dev/null || { echo "make bench-peers needs wrk: apt-get install wrk" >&2; exit 1; }
mkdir -p "$PEERS_HOME"
if [ ! -x "$PEERS_HOME/.venv/bin/python" ]; then
  "$PYTHON" -m venv "$PEERS_HOME/.venv"
  "$PEERS_HOME/.venv/bin/pip" install --quiet -r "$PEERS/requirements.txt"
fi
if [[ " $* " == *" --db postgresql "* ]]; then
  admin=(psql -h 127.0.0.1 -U postgres -d postgres -qAt)
  if [ -z "$("${admin[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'bench'")" ]; then
    "${admin[@]}" -c "CREATE ROLE bench LOGIN PASSWORD 'bench'"
  fi
  "${admin[@]}" -c "ALTER ROLE bench CREATEDB"
  if [ -z "$("${admin[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'bench'")" ]; then
    "${admin[@]}" -c "CREATE DATABASE bench OWNER bench"
  fi
fi
sed -e 's/^api.trusted_hosts = .*/api.trusted_hosts = localhost 127.0.0.1/' \
    -e 's/^api.cursor_secret =$/api.cursor_secret = bench-peers-not-secret/' \
    "$PROJECT/production.ini" > "$PEERS_HOME/bench-production.ini"
cd "$PEERS"
PEERS_HOME="$PEERS_HOME" exec "$PEERS_HOME/.venv/bin/python" bench.py \
  --project "$PROJECT" --project-ini "$PEERS_HOME/bench-production.ini" "$@"
