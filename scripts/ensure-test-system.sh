#!/usr/bin/env bash
# Install the Debian packages the test suite needs, when missing (fresh Debian 12, as root):
# PostgreSQL and Redis (integration tests), Debian chromium (browser tests), the R stack for
# the lmerTest cross-check, dicom3tools (dciodvfy) and Orthanc with its DICOMweb plug-in.
set -euo pipefail
packages=(
  postgresql redis-server chromium
  r-base-core r-base-dev r-cran-lme4 r-cran-lmertest r-cran-emmeans
  orthanc orthanc-dicomweb dicom3tools
)
# node + npm rebuild the viewer bundle in a test (reproducibility); Debian's if none is present.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
