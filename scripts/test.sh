#!/usr/bin/env bash
# Runs every test of hotline: unit and property tests of each crate, and the end-to-end
# tests that start the real switch and drive it with SIPp, baresip, SIPVicious and the PROTOS
# c07-sip suite on 127.0.0.1, and the web console's pages in headless Chromium over WebDriver.
# Installs what the tests need first (Debian packages through apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
command -v baresip >/dev/null 2>&1 || need+=(baresip-core)
command -v svwar >/dev/null 2>&1 || need+=(sipvicious)
# The PROTOS c07-sip suite's sender (tests/protos/c07-sip-r2.jar) is Java.
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
# The web console's browser tests: headless Chromium, its WebDriver, and a Chinese font
# so that their screenshots show the pages as a person sees them.
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} (apt-get)"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
command -v sipp >/dev/null 2>&1 || { echo "SIPp is still missing after apt-get" >&2; exit 1; }
command -v baresip >/dev/null 2>&1 || { echo "baresip is still missing after apt-get" >&2; exit 1; }
command -v svwar >/dev/null 2>&1 || { echo "sipvicious is still missing after apt-get" >&2; exit 1; }
command -v java >/dev/null 2>&1 || { echo "java is still missing after apt-get" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "chromium is still missing after apt-get" >&2; exit 1; }
command -v chromedriver >/dev/null 2>&1 || { echo "chromedriver is still missing after apt-get" >&2; exit 1; }

cargo test --workspace --locked "$@"
