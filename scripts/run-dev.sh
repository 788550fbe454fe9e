#!/usr/bin/env bash
# Development server on embedded defaults: the OpenRouter emulator on loopback and Django's
# runserver pointed at it. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
EMULATOR_PORT=${EMULATOR_PORT:-8788}
export OPENROUTER_BASE_URL=${OPENROUTER_BASE_URL:-http://127.0.0.1:${EMULATOR_PORT}/api/v1}
export SYSTEM_AI_BASE_URL=${SYSTEM_AI_BASE_URL:-http://127.0.0.1:${EMULATOR_PORT}/api/v1}

.venv/bin/python manage.py openrouter_emulator --port "$EMULATOR_PORT" --generation-delay 1.5 &
EMULATOR_PID=$!
trap 'kill $EMULATOR_PID 2>/dev/null || true' EXIT INT TERM

# Wait for the emulator so the demo data can be produced by real calls through the gateway.
for _ in $(seq 1 50); do
  if .venv/bin/python -c "import httpx,sys; httpx.get('http://127.0.0.1:${EMULATOR_PORT}/api/v1/models', timeout=0.5)" 2>/dev/null; then break; fi
  sleep 0.2
done

.venv/bin/python manage.py setup_demo
echo
echo "  App:       http://127.0.0.1:${PORT}/   (log in with the demo user above)"
echo "  Emulator:  ${OPENROUTER_BASE_URL}"
echo
.venv/bin/python manage.py runserver "127.0.0.1:${PORT}"
