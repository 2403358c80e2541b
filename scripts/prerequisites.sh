# Sourced by the scripts in this folder: installs the Debian packages the tests and the demo need, only when missing.
# Say what is happening; never install silently.

R2PS_APT_PACKAGES=(softhsm2 opensc rabbitmq-server)

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
  # RabbitMQ's package starts a system node on install; tests start private nodes, so keep the system one from starting.
  as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  say "Installed ${missing[*]}"
}

ensure_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET 10 SDK is required (dotnet not on PATH)." >&2
    return 1
  fi
}
