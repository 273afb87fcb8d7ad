#!/usr/bin/env bash
# Start PostgreSQL and Redis for the integration tests if they are not answering, and print
# the DATABASE_URL / CELERY_BROKER_URL to use (unless the caller already set them).
set -euo pipefail
log() { echo "$@" >&2; }

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
    [ -n "$version" ] || { log "PostgreSQL is not installed"; exit 1; }
    log "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  # A role with a password works whatever pg_hba.conf says for TCP (trust or scram).
  if [ "$(id -u)" = 0 ]; then
    su postgres -c "psql -q -v ON_ERROR_STOP=1" >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'readerstudy') THEN
    CREATE ROLE readerstudy LOGIN CREATEDB PASSWORD 'readerstudy';
  END IF;
END $$;
SELECT 'CREATE DATABASE readerstudy OWNER readerstudy'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'readerstudy')\gexec
SQL
  fi
  echo "TEST_DATABASE_URL=postgres://readerstudy:readerstudy@127.0.0.1:5432/readerstudy"
else
  echo "TEST_DATABASE_URL=$TEST_DATABASE_URL"
fi

if [ -z "${TEST_BROKER_URL:-}" ]; then
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/readerstudy-test.log
    for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
  fi
  echo "TEST_BROKER_URL=redis://127.0.0.1:6379/15"
else
  echo "TEST_BROKER_URL=$TEST_BROKER_URL"
fi
