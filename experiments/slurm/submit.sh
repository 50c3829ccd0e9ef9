#!/usr/bin/env bash
# experiments/slurm/submit.sh - submit experiments to Slurm: one array of N shard tasks
# (shard.sbatch, --array=0-(N-1)) and a report job that runs once the array has succeeded
# (report.sbatch, --dependency=afterok:<array id>); prints both job ids. `make reproduce-slurm`
# calls it for every paper experiment. Resuming: submit again; finished units are skipped.
#
#     bash experiments/slurm/submit.sh SHARDS EXPERIMENT...
#
# Variables (environment; `make reproduce-slurm` passes PARTITION, ACCOUNT, TIME, MEM, CPUS):
#   WINCLIP_SLURM_PARTITION  --partition, default: none (the cluster's default partition)
#   WINCLIP_SLURM_ACCOUNT    --account, default: none
#   WINCLIP_SLURM_TIME       --time of each shard task, default 6:00:00
#   WINCLIP_SLURM_MEM        --mem of each shard task, default 4G (empty: no --mem): a demo shard
#                            peaks at 54 MB (measured); a full-size shard at about 1.2 GB, E71
#                            (metrics at the original size) about 2.1 GB (estimates: README
#                            "Running on a Slurm cluster")
#   WINCLIP_SLURM_CPUS       --cpus-per-task (threads per shard), default 2
#   WINCLIP_SLURM_REPORT_TIME  --time of the report job, default 0:30:00
#   WINCLIP_SLURM_LOGS       folder for the job logs, default <results>/slurm-logs
#   WINCLIP_SLURM_SBATCH_ARGS  any other sbatch options (e.g. "--qos=long"), default none
#   WINCLIP_SLURM_DRY_RUN=1  print the sbatch commands instead of submitting
#   WINCLIP_RESULTS, WINCLIP_BIN, WINCLIP_RUN_ARGS, WINCLIP_REPORT_ARGS: see shard.sbatch
# Paths are taken relative to the repository root, which the jobs run in (--chdir): the
# results folder and the repository must be on a filesystem every node sees.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
usage() { echo "usage: bash experiments/slurm/submit.sh SHARDS EXPERIMENT..." >&2; exit 2; }
[ $# -ge 2 ] || usage
shards=$1
shift
case $shards in '' | *[!0-9]*) echo "submit.sh: SHARDS '$shards': expected a positive integer" >&2; exit 2 ;; esac
[ "$shards" -ge 1 ] && [ "$shards" -le 4096 ] || { echo "submit.sh: SHARDS $shards: expected 1..4096" >&2; exit 2; }
export WINCLIP_SHARDS=$shards
export WINCLIP_EXPERIMENTS="$*"
export WINCLIP_RESULTS=${WINCLIP_RESULTS:-results}
export WINCLIP_BIN=${WINCLIP_BIN:-build/winclip}
logs=${WINCLIP_SLURM_LOGS:-$WINCLIP_RESULTS/slurm-logs}
common=(--chdir="$repo" --export=ALL)
[ -n "${WINCLIP_SLURM_PARTITION:-}" ] && common+=(--partition="$WINCLIP_SLURM_PARTITION")
[ -n "${WINCLIP_SLURM_ACCOUNT:-}" ] && common+=(--account="$WINCLIP_SLURM_ACCOUNT")
# shellcheck disable=SC2206 # a list of sbatch options
[ -n "${WINCLIP_SLURM_SBATCH_ARGS:-}" ] && common+=($WINCLIP_SLURM_SBATCH_ARGS)
shard_opts=(--array="0-$((shards - 1))" --cpus-per-task="${WINCLIP_SLURM_CPUS:-2}"
            --time="${WINCLIP_SLURM_TIME:-6:00:00}" --output="$logs/shard-%A_%a.log")
mem=${WINCLIP_SLURM_MEM-4G}
[ -n "$mem" ] && shard_opts+=(--mem="$mem")
report_opts=(--cpus-per-task=1 --time="${WINCLIP_SLURM_REPORT_TIME:-0:30:00}" --output="$logs/report-%j.log")
if [ "${WINCLIP_SLURM_DRY_RUN:-0}" = 1 ]; then
    echo "sbatch --parsable ${common[*]} ${shard_opts[*]} $here/shard.sbatch"
    echo "sbatch --parsable ${common[*]} ${report_opts[*]} --dependency=afterok:<array id> $here/report.sbatch"
    echo "experiments: $WINCLIP_EXPERIMENTS; shards: $shards; results: $WINCLIP_RESULTS"
    exit 0
fi
command -v sbatch >/dev/null || { echo "submit.sh: sbatch not found: run this on a Slurm login node" >&2; exit 1; }
(cd "$repo" && mkdir -p "$logs")
array=$(sbatch --parsable "${common[@]}" "${shard_opts[@]}" "$here/shard.sbatch")
array=${array%%;*}
report=$(sbatch --parsable "${common[@]}" "${report_opts[@]}" --dependency="afterok:$array" "$here/report.sbatch")
report=${report%%;*}
echo "winclip slurm: array job $array ($shards shard tasks of: $WINCLIP_EXPERIMENTS), logs $logs/shard-${array}_<task>.log"
echo "winclip slurm: report job $report (after the array succeeds: --dependency=afterok:$array), log $logs/report-$report.log"
echo "winclip slurm: watch with: squeue -j $array,$report; resume after a failure: submit again (finished units are skipped)"
