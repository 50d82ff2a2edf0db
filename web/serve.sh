#!/usr/bin/env bash
# The README's run command: installs what is missing, then serves the app on http://127.0.0.1:8080
set -euo pipefail
cd "$(dirname "$0")/.."
bash web/setup.sh
exec trunk serve --release "$@"
