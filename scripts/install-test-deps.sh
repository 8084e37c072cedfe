#!/usr/bin/env bash
# Installs the Debian packages the test suite drives: the reference iSCSI target
# (tgt), real initiators (libiscsi, QEMU), fio, the real OpenStack clients, tempest (the
# OpenStack API test suite and its response schemas), Keystone
# served by uwsgi's python3 plugin (named here because the tests load it by name, not
# only because keystone depends on it today), and oslo.policy, which the policy engine
# is checked against. Idempotent; needs root (or sudo).
set -euo pipefail
packages=(tgt libiscsi-bin qemu-utils qemu-block-extra fio python3-cinderclient python3-openstackclient keystone uwsgi-plugin-python3 python3-oslo.policy python3-oslo.context tempest python3-subunit util-linux procps)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# Package scripts must not start daemons that would take the ports tests use.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}"
