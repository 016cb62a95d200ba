#!/usr/bin/env bash
# The Debian packages Otklik needs outside Python, by purpose; installs the missing ones.
#
#   scripts/system-deps.sh venv   # python3-venv: `python3 -m venv` needs it on Debian
#   scripts/system-deps.sh test   # also Chromium and a font for the browser test, and make
#
# Packages already installed are left alone: nothing runs apt when none is missing. Runs
# apt-get as root, or through sudo; says so in one line and fails when it can do neither.
set -euo pipefail

VENV_PACKAGES=(python3-venv)
TEST_PACKAGES=("${VENV_PACKAGES[@]}" make chromium chromium-driver fonts-dejavu-core postgresql
               redis-server)

case "${1:-}" in
  venv) wanted=("${VENV_PACKAGES[@]}") ;;
  test) wanted=("${TEST_PACKAGES[@]}") ;;
  *) echo "usage: $0 venv|test" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  echo "system-deps: not a Debian-like system; make sure these are installed:" \
       "${wanted[*]}" >&2
  exit 0
fi

missing=()
for package in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null; then
  as_root=(sudo)
else
  echo "system-deps: missing Debian packages (${missing[*]}) and neither root nor sudo to" \
       "install them: run 'apt-get install -y ${missing[*]}' as root" >&2
  exit 1
fi

echo "system-deps: installing ${missing[*]}" >&2
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
