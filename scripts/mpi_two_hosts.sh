#!/usr/bin/env bash
# A real two-host MPI job on one machine: two network namespaces ("hosts")
# joined by a veth pair, one rank in each, talking over Open MPI's TCP
# transport only (no shared memory between them). mpirun starts in the
# first namespace and reaches the second through a launch agent that enters
# it (in place of ssh). Needs root and iproute2.
#
#   bash scripts/mpi_two_hosts.sh HARK OUT_DIR -- HARK_ARGS…
#
# runs `HARK HARK_ARGS… --out OUT_DIR` as a 2-rank job across the two hosts,
# then removes the namespaces. Exit status: the job's.
set -euo pipefail
hark=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$2
shift 3
suffix=$$
a=harka$suffix b=harkb$suffix
agent=$(mktemp)
cleanup() { ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true; rm -f "$agent"; }
trap cleanup EXIT
ip netns add "$a"
ip netns add "$b"
ip link add "va$suffix" type veth peer name "vb$suffix"
ip link set "va$suffix" netns "$a"
ip link set "vb$suffix" netns "$b"
ip -n "$a" addr add 10.77.0.1/24 dev "va$suffix"
ip -n "$b" addr add 10.77.0.2/24 dev "vb$suffix"
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set "va$suffix" up
ip -n "$b" link set "vb$suffix" up
# The launch agent: AGENT HOST COMMAND… runs COMMAND in the namespace that owns HOST's address.
cat > "$agent" <<AGENT
#!/bin/sh
host=\$1; shift
case "\$host" in 10.77.0.1) ns=$a ;; 10.77.0.2) ns=$b ;; *) echo "unknown test host \$host" >&2; exit 1 ;; esac
exec ip netns exec "\$ns" sh -c "\$*"
AGENT
chmod +x "$agent"
ip netns exec "$a" mpirun --allow-run-as-root --host 10.77.0.1:1,10.77.0.2:1 -np 2 \
  --mca plm_rsh_agent "$agent" --mca btl tcp,self \
  --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
  "$hark" "$@" --out "$out"
