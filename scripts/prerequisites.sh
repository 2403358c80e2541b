# Sourced by the scripts in this folder: installs the Debian packages the tests and the demo need, only when missing.
# Say what is happening; never install silently.

# docker-compose only validates compose/ (no Docker engine runs here).
# postgresql: the tests start private servers from its binaries (/usr/lib/postgresql/*/bin); the package's own cluster
# is never started (policy-rc.d below) nor used.

R2PS_APT_PACKAGES=(softhsm2 opensc rabbitmq-server docker-compose postgresql)

say() { printf '==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else
    echo "error: '$*' needs root and sudo is not available; install the packages above by hand." >&2
    return 1
  fi
}

ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "Prerequisites present: $*"
    return 0
  fi
  say "Installing ${missing[*]} (apt-get; once per machine)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  # rabbitmq-server's package would start a system-wide node on install; tests and the demo start private nodes on free
  # ports, so a policy-rc.d that denies service starts (Debian's standard switch) keeps the system node down.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy" && added_policy=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  local status=$?
  [ "$added_policy" -eq 1 ] && as_root rm -f "$policy"
  [ "$status" -eq 0 ] || { echo "error: apt-get install ${missing[*]} failed." >&2; return 1; }
  say "Installed ${missing[*]}"
}

ensure_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET 10 SDK is required (dotnet not on PATH)." >&2
    return 1
  fi
}
