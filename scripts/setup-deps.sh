#!/usr/bin/env bash
# Install every Debian 12 package that plumetrace's build, tests, benchmarks and demo need.
# Idempotent: apt-get skips what is already installed. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libgdal-dev gdal-bin
  libproj-dev proj-bin proj-data
  libboost-dev
  nlohmann-json3-dev
  libeigen3-dev
  libhowardhinnant-date-dev
  libfast-float-dev
  libpng-dev
  libsqlite3-dev
  libssl-dev
  libgtest-dev libgmock-dev
  libbenchmark-dev
  python3 python3-numpy
  curl tzdata python3-gdal
  postgresql postgresql-15-postgis-3 libpq-dev
  wrk chromium libjs-leaflet
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
