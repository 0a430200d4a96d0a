#!/usr/bin/env bash
# Run a command beside one busy-loop process per core, as on a loaded CI machine.
#
#   tests/scripts/under_load.sh [-n PROCESSES] COMMAND [ARGS...]
#   tests/scripts/under_load.sh .venv/bin/python -m pytest
#
# The busy loops start before the command and are killed, by their own PIDs,
# when it ends, however it ends; the command's exit status is the script's.
set -u
n=$(nproc)
if [ "${1:-}" = "-n" ]; then
    n=$2
    shift 2
fi
if [ $# -eq 0 ]; then
    echo "usage: $0 [-n PROCESSES] COMMAND [ARGS...]" >&2
    exit 2
fi
pids=()
stop_load() {
    [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null
    wait "${pids[@]}" 2>/dev/null
    pids=()
}
trap stop_load EXIT
trap 'stop_load; exit 130' INT TERM
for _ in $(seq "$n"); do
    (while :; do :; done) &
    pids+=($!)
done
echo "under_load: $n busy-loop processes (${pids[*]}) beside: $*" >&2
"$@"
