#!/bin/sh
# Initialises the SoftHSM2 token in the shared volume once; later runs find it and leave it as it is.
set -eu
: "${R2PS_HSM_PIN:?R2PS_HSM_PIN is required}" "${R2PS_HSM_SO_PIN:?R2PS_HSM_SO_PIN is required}"
mkdir -p /hsm/tokens
if [ ! -f /hsm/softhsm2.conf ]; then
  printf 'directories.tokendir = /hsm/tokens\nobjectstore.backend = file\nlog.level = INFO\n' > /hsm/softhsm2.conf
fi
export SOFTHSM2_CONF=/hsm/softhsm2.conf
if softhsm2-util --show-slots | grep -Eq 'Label:[[:space:]]+r2ps[[:space:]]*$'; then
  echo "SoftHSM2 token 'r2ps' already initialised"
  exit 0
fi
softhsm2-util --init-token --free --label r2ps --so-pin "$R2PS_HSM_SO_PIN" --pin "$R2PS_HSM_PIN"
echo "SoftHSM2 token 'r2ps' initialised"
