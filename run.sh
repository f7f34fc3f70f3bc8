#!/usr/bin/env bash
# AVG-Bench quick start on a fresh Debian/Ubuntu machine:
#   bash run.sh demo    # set everything up, then run the main job (avg-bench demo)
#   bash run.sh test    # set everything up, then run the test suite
#   bash run.sh lint    # set everything up, then run ruff and mypy (CI runs both before the tests)
# Set-up is idempotent: system packages are installed only when missing (apt-get, as root or
# through sudo), the virtual environment (.venv, or $AVG_BENCH_VENV) is created once, and the
# project is reinstalled only when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

VENV="${AVG_BENCH_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
# System packages the project needs, each with the command that proves it is there.
APT_NEEDS=(
  "ffmpeg:ffmpeg"          # canonical clip processing; its shared libraries also serve torchcodec
  "ffprobe:ffmpeg"
  "espeak-ng:espeak-ng"    # speech cues of AVG-Synth
  "chromium:chromium"      # the leaderboard's browser tests (Playwright drives /usr/bin/chromium)
  "pg_ctl:postgresql"      # the leaderboard's API tests also run on a real PostgreSQL server
)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

apt_install() {
  local runner=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root or sudo to apt-get install $*" >&2; exit 1; }
    runner=(sudo)
  fi
  say "installing system packages: $*"
  ${runner[@]+"${runner[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  ${runner[@]+"${runner[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# A command on PATH, or one of PostgreSQL's server programs, which Debian keeps in
# /usr/lib/postgresql/<version>/bin rather than on PATH.
has_command() {
  command -v "$1" >/dev/null && return 0
  compgen -G "/usr/lib/postgresql/*/bin/$1" >/dev/null
}

ensure_system() {
  local missing=()
  command -v "$PYTHON" >/dev/null || missing+=(python3)
  if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then missing+=(python3-venv); fi
  local need
  for need in "${APT_NEEDS[@]}"; do
    has_command "${need%%:*}" || missing+=("${need#*:}")
  done
  # AVG-Synth burns a SYNTHETIC label into every frame with this font (ffmpeg's drawtext).
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] || missing+=(fonts-dejavu-core)
  if [ "${#missing[@]}" -gt 0 ]; then mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u); fi
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
  "$PYTHON" - <<'PY' || { echo "AVG-Bench needs Python >= 3.11 (found $("$PYTHON" --version 2>&1)); set PYTHON=python3.11 or newer" >&2; exit 1; }
import sys
sys.exit(sys.version_info < (3, 11))
PY
}

ensure_venv() {
  local extras="$1" stamp="$VENV/.avg-bench-installed-$1"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "installing avg-bench[$extras] into $VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    # torch first, pinned: a bare range would pull the newest CUDA build (several GB); 2.13.0 is
    # the CPU wheel where one is provided locally, and satisfies the project's range.
    "$VENV/bin/python" -m pip install --quiet "torch==2.13.0"
    "$VENV/bin/python" -m pip install --quiet -e ".[$extras]"
    touch "$stamp"
  fi
}

case "${1:-}" in
  demo)
    shift
    ensure_system
    ensure_venv test
    say "the demo: AVG-Synth -> build -> baselines -> scores (offline, resumable, in ./avg-demo)"
    "$VENV/bin/avg-bench" demo "$@"
    ;;
  test)
    shift
    ensure_system
    ensure_venv test
    say "running the test suite"
    "$VENV/bin/python" -m pytest "$@"
    ;;
  lint)
    shift
    ensure_system
    ensure_venv test
    say "ruff (style, imports, docstrings) and mypy (types of avg_bench)"
    "$VENV/bin/ruff" check .
    "$VENV/bin/mypy"
    ;;
  *)
    echo "usage: bash run.sh demo|test|lint [extra arguments]" >&2
    exit 64
    ;;
esac
