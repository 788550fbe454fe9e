#!/usr/bin/env bash
# Development on embedded defaults: the OpenRouter emulator on loopback, a Celery worker with the
# beat scheduler (kombu's filesystem transport in var/celery unless CELERY_BROKER_URL is set; the
# database is SQLite in WAL mode unless DATABASE_URL is set) and Django's runserver pointed at the
# emulator. Ctrl-C (or any one of them dying) stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
EMULATOR_PORT=${EMULATOR_PORT:-8788}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.dev}
export OPENROUTER_BASE_URL=${OPENROUTER_BASE_URL:-http://127.0.0.1:${EMULATOR_PORT}/api/v1}
export SYSTEM_AI_BASE_URL=${SYSTEM_AI_BASE_URL:-http://127.0.0.1:${EMULATOR_PORT}/api/v1}
mkdir -p var

PIDS=()
stop() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

.venv/bin/python manage.py openrouter_emulator --port "$EMULATOR_PORT" --generation-delay 1.5 &
PIDS+=($!)

# Wait for the emulator so the demo data can be produced by real calls through the gateway.
for _ in $(seq 1 50); do
  if .venv/bin/python -c "import httpx,sys; httpx.get('http://127.0.0.1:${EMULATOR_PORT}/api/v1/models', timeout=0.5)" 2>/dev/null; then break; fi
  sleep 0.2
done

.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py setup_periodic_tasks

# One worker process with beat embedded (-B): on one machine that is the whole of production's
# worker + beat pair. Gossip, mingle and heartbeats are broadcast chatter a single worker does not need.
.venv/bin/celery -A config worker -B --concurrency "${CELERY_CONCURRENCY:-1}" --loglevel INFO \
  --without-gossip --without-mingle --without-heartbeat >var/celery.log 2>&1 &
PIDS+=($!)

.venv/bin/python manage.py setup_demo
echo
echo "  App:       http://127.0.0.1:${PORT}/   (log in with the demo user above)"
echo "  Emulator:  ${OPENROUTER_BASE_URL}"
echo "  Worker:    var/celery.log   (Celery worker + beat, broker ${CELERY_BROKER_URL:-filesystem in var/celery})"
echo
.venv/bin/python manage.py runserver "127.0.0.1:${PORT}" &
PIDS+=($!)
# Stop everything as soon as any one process ends (or on Ctrl-C, through the trap).
wait -n
