#!/usr/bin/env bash
# Runs every test of the repository on a real SoftHSM2 token: installs what the tests need when missing, builds once,
# runs all test projects, and ends with one line "N passed, N failed" (the counts of the whole run).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh

ensure_dotnet || exit 1
ensure_packages "${R2PS_APT_PACKAGES[@]}" || exit 1

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

say "Building (Release)"
if ! dotnet build R2psMessaging.sln -c Release -nologo -clp:ErrorsOnly -v:q; then
  echo "Build failed."
  echo "0 passed, 1 failed"
  exit 1
fi

say "Running the tests"
# -m:1 runs the test projects one after another: the worker tests time expiry across processes (TTL + 1 s) and must
# not share two cores with the other suites.
dotnet test R2psMessaging.sln -c Release --no-build -nologo -v:q -m:1 \
  --logger "trx" --results-directory "$results" 2>&1 | grep -v -E '^\s*$|Results File:'
status=${PIPESTATUS[0]}

# One summary line for the whole run, summed over the test assemblies' TRX files.
# Failed tests are listed with the first lines of their message, so a red CI log says why.
python3 - "$results" >&2 <<'PY'
import sys, glob, xml.etree.ElementTree as ET
ns = {'t': 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010'}
for path in glob.glob(sys.argv[1] + '/**/*.trx', recursive=True):
    for r in ET.parse(path).getroot().iterfind('.//t:UnitTestResult', ns):
        if r.get('outcome') in ('Failed', 'Error', 'Timeout'):
            message = r.find('t:Output/t:ErrorInfo/t:Message', ns)
            text = (message.text or '').strip().splitlines() if message is not None else []
            print('FAILED ' + r.get('testName'))
            for line in text[:12]:
                print('    ' + line)
PY
read -r passed failed skipped < <(
  python3 - "$results" <<'PY'
import sys, glob, xml.etree.ElementTree as ET
ns = {'t': 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010'}
p = f = s = 0
for path in glob.glob(sys.argv[1] + '/**/*.trx', recursive=True):
    c = ET.parse(path).getroot().find('t:ResultSummary/t:Counters', ns)
    p += int(c.get('passed', 0)); f += int(c.get('failed', 0)) + int(c.get('error', 0)) + int(c.get('timeout', 0))
    s += int(c.get('notExecuted', 0))
print(p, f, s)
PY
)
if [ "$status" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then failed=1; fi
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
[ "$status" -eq 0 ] && [ "${failed:-0}" -eq 0 ]
