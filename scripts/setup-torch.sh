#!/usr/bin/env bash
# Installs libtorch for tch 0.26.0 (torch==2.13.0 from PyPI) into the project-local venv `.venv`
# and links it as `.venv/torch`, the path `.cargo/config.toml` gives cargo as LIBTORCH.
# Idempotent (a second run does nothing); skipped entirely when LIBTORCH is already set.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${LIBTORCH:-}" ]; then
  echo "LIBTORCH is set ($LIBTORCH): skipping the torch venv set-up" >&2
  exit 0
fi
want="2.13.0"
venv="$root/.venv"
if [ -f "$venv/.torch-$want" ] && [ -f "$venv/torch/lib/libtorch_cpu.so" ]; then
  exit 0
fi
echo "setting up torch==$want in $venv (one-off: about 4.7 GB, a minute or two)..." >&2
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "torch==$want"
torch_dir=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)
ln -sfn "$torch_dir" "$venv/torch"
touch "$venv/.torch-$want"
echo "torch $want ready: $venv/torch" >&2
