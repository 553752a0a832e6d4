#!/usr/bin/env bash
# Encode a folder against a frozen decoder as a Slurm job array, one task per shard, then merge
# the parts in a job that starts when every task has succeeded:
#
#   examples/slurm_encode.sh DIR BASE.gonpack ALL.gonpack SHARDS [sbatch options...]
#
# e.g. `examples/slurm_encode.sh photos/ base.gonpack photos.gonpack 16 --partition=cpu`.
# DIR, BASE, the output's folder and the gonpack programs (GONPACK, default `gonpack` on PATH,
# with gonpack-train next to it) must be on storage every node sees. Each array task runs
# `gonpack encode DIR --decoder BASE --shard I/N`; the merge job runs `gonpack merge`, and the
# merged pack is the one a single `gonpack encode DIR --decoder BASE` writes, byte for byte.
#
# The same script is the body of each task (`task`) and of the merge job (`merge`).
set -euo pipefail
GONPACK=${GONPACK:-gonpack}

case "${1:-}" in
task)
  # One array element: shard SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT.
  shift
  dir=$1 base=$2 parts=$3
  i=$SLURM_ARRAY_TASK_ID n=$SLURM_ARRAY_TASK_COUNT
  exec "$GONPACK" encode "$dir" --decoder "$base" --shard "$i/$n" \
    -o "$parts/part-$i-of-$n.gonpack" --threads "${SLURM_CPUS_PER_TASK:-1}" --quiet
  ;;
merge)
  shift
  parts=$1 n=$2 out=$3
  files=()
  for ((i = 0; i < n; i++)); do files+=("$parts/part-$i-of-$n.gonpack"); done
  "$GONPACK" merge "${files[@]}" -o "$out"
  rm -f "${files[@]}"
  rmdir "$parts" 2>/dev/null || true
  ;;
*)
  if [ $# -lt 4 ]; then
    sed -n '2,14p' "$0" >&2
    exit 2
  fi
  dir=$(realpath "$1") base=$(realpath "$2") out=$(realpath -m "$3") n=$4
  shift 4
  parts="$out.parts"
  mkdir -p "$parts"
  self=$(realpath "$0")
  array=$(sbatch --parsable --job-name=gonpack-encode --array="0-$((n - 1))" \
    --cpus-per-task=4 "$@" --export=ALL,GONPACK="$GONPACK" \
    --wrap "bash '$self' task '$dir' '$base' '$parts'")
  merge=$(sbatch --parsable --job-name=gonpack-merge --dependency="afterok:$array" "$@" \
    --export=ALL,GONPACK="$GONPACK" --wrap "bash '$self' merge '$parts' $n '$out'")
  echo "submitted array job $array ($n shards) and merge job $merge -> $out"
  ;;
esac
