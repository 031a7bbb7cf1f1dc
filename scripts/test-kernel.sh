#!/usr/bin/env bash
# npm run test:kernel: the SocketCAN tests (__test__/kernel) in a qemu guest
# with vcan0/vcan1 (scripts/socketcan-vm.sh), against can-utils as peers.
# Builds first if the addon or dist/ is missing; prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ls native/*.node >/dev/null 2>&1 || [[ ! -f dist/index.js ]]; then
  echo "== test:kernel: no build found, building (debug)"
  npm run build:debug
fi
report=target/vitest-kernel-report.json
mkdir -p target
rm -f "$report"
status=0
# Arguments narrow the run (spec paths or name filters); none runs every kernel spec.
[[ $# -gt 0 ]] || set -- __test__/kernel
# One spec file at a time: the files share vcan0/vcan1 and the guest's two
# slow CPUs, so parallel files see each other's frames and miss deadlines.
scripts/socketcan-vm.sh -- env CI=1 CANWIRE_KERNEL_TIER=1 npx vitest run --no-file-parallelism --outputFile.json="$report" "$@" || status=$?
if ! node scripts/test-summary.mjs "$report" | sed 's/^vitest:/vitest (kernel, in the guest):/'; then
  [[ $status -ne 0 ]] || status=1
fi
exit "$status"
