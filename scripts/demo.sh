#!/usr/bin/env bash
# The main job: runs the Signera flow end to end on embedded defaults (one process, MassTransit's in-memory transport,
# SQLite and a SoftHSM2 token under .data/demo). Installs SoftHSM2 when missing, builds once, then runs `r2ps demo`.
# Extra arguments go to the demo (e.g. --data DIR, --ttl 5, --json).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh

ensure_dotnet
ensure_packages softhsm2

say "Building r2ps (Release)"
dotnet build src/R2ps.Cli/R2ps.Cli.csproj -c Release -nologo -v:q -clp:ErrorsOnly >/dev/null
say "Running the demo"
exec dotnet src/R2ps.Cli/bin/Release/net10.0/r2ps.dll demo "$@"
