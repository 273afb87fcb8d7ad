#!/bin/sh
# Container roles: web (gunicorn, runs migrations first), worker-cpu, worker-gpu, or any command.
set -e
case "$1" in
  web)
    python manage.py migrate --noinput
    # Worker heartbeat files in memory: on a disk-backed /tmp (containers) a heartbeat can
    # stall behind the disk's writeback, and every request of that worker waits with it.
    exec gunicorn readerstudy.wsgi:application --bind 0.0.0.0:8000 \
      --workers "${WEB_CONCURRENCY:-4}" --timeout 120 --worker-tmp-dir /dev/shm \
      --access-logfile -
    ;;
  worker-cpu)
    exec celery -A readerstudy.celery worker --queues default,inference-cpu \
      --concurrency "${WORKER_CONCURRENCY:-2}" --hostname "cpu@%h" --loglevel INFO
    ;;
  worker-gpu)
    exec celery -A readerstudy.celery worker --queues inference-gpu \
      --concurrency "${WORKER_CONCURRENCY:-1}" --hostname "gpu@%h" --loglevel INFO
    ;;
  *)
    exec "$@"
    ;;
esac
