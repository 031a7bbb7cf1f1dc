#!/usr/bin/env bash
# Installs python-can-isotp (PyPI can-isotp, pure Python) into target/bench-py
# for bench/isotp; not a project dependency. Runs on the host (the qemu guest
# has no network); the guest finds it through PYTHONPATH and runs it on
# Debian's python3-can. A failed install only drops the python column.
set -uo pipefail
cd "$(dirname "$0")/../.."
[[ -d target/bench-py/isotp ]] && exit 0
python3 -m pip install --quiet --disable-pip-version-check --no-deps --target target/bench-py "can-isotp==2.0.7" \
  || echo "bench/isotp: could not install can-isotp; python-can-isotp is left out" >&2
exit 0
