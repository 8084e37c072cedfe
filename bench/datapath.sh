#!/usr/bin/env bash
# bench/datapath.sh - our iSCSI target against tgtd, side by side, in one run.
#
# Usage: bench/datapath.sh [--quick] [-h]
#   --quick   three ~0.7 s repetitions per test instead of five ~2 s ones (about 1.5 minutes in all)
#
# It creates three files of the same size and content and serves them on loopback with CHAP:
# two with tgtd (Debian "tgt"), once as shipped and once tuned, and one with our target
# (bench/datapath-target.mjs over the compiled dist/). It runs every test against the three
# back to back and prints a Markdown table with each target's figure, our ratio to each tgtd
# and each target's CPU use. Build first: npx tsc -p .
#
#   tgtd        tgtd with its defaults, as Debian ships it and as Cinder's tgtadm helper runs it:
#               MaxRecvDataSegmentLength 8192, so writes arrive in 8 KiB Data-Out PDUs. The goal
#               (ours >= tgtd on every row, >= 1.5x on sequential write) is judged against it.
#   tgtd tuned  the same with MaxRecvDataSegmentLength 262144, the value our target declares:
#               the stricter comparison, printed beside it and summarised on its own line.
#
# Environment (defaults in brackets):
#   BENCH_SECS [2, quick 0.7]  duration of one repetition (iscsi-perf rounds it up to whole seconds)
#   BENCH_REPS [5, quick 3]    repetitions per test and target; the table shows the median
#   BENCH_SIZE_MIB [1024]      size of each backing file
#   BENCH_TESTS [all]          a space-separated subset of seq_write_1m_qd1 seq_write_1m_qd8
#                              seq_read_1m_qd1 seq_read_1m_qd8 write_4k_qd1 write_4k_qd32
#                              read_4k_qd1 read_4k_qd32 randread_4k_qd1 randread_4k_qd32
#   BENCH_DIR [$TMPDIR]        where the temporary backing files go (keep it on the volumes' fs)
#   BENCH_NODE_OPTS []         extra node flags for our target, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
#   BENCH_OURS_URL, BENCH_OURS_PID   measure an already running target (e.g. a whole
#                              "cinderblock serve" export) instead of starting the bench entry;
#                              allow iqn.2010-10.org.cinderblock:datapath-bench (libiscsi tools)
#                              and iqn.2008-11.org.linux-kvm (QEMU) on it
#
# CPU% is the target process's user+system time (all threads, /proc/PID/stat) divided by the
# run time the client reports, as a percentage of one core. Both targets share two cores with
# the initiator, so CPU% above 100 means the target used more than one core.
set -u

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 2; }

QUICK=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $arg" >&2; usage ;;
  esac
done

# Several short repetitions rather than a few long ones: on two shared cores a burst of other
# load can halve one run, and the median of five shrugs off two such runs.
if [ "$QUICK" = 1 ]; then SECS=${BENCH_SECS:-0.7}; REPS=${BENCH_REPS:-3}; else SECS=${BENCH_SECS:-2}; REPS=${BENCH_REPS:-5}; fi
PERF_SECS=$(awk -v s="$SECS" 'BEGIN {n = int(s); print (n < s ? n + 1 : (n < 1 ? 1 : n))}')
SIZE_MIB=${BENCH_SIZE_MIB:-1024}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
CHAP_USER=benchuser
# 16+ characters: RFC 7143 asks targets to refuse shorter CHAP secrets.
CHAP_PASS=benchsecret-4f1c9e
CLK=$(getconf CLK_TCK)
# Our target admits initiators by name: the libiscsi tools log in as this (-i), QEMU as its default.
INITIATOR=iqn.2010-10.org.cinderblock:datapath-bench
QEMU_INITIATOR=iqn.2008-11.org.linux-kvm

log() { echo "# $*" >&2; }
die() { echo "datapath: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || die "missing $1 (apt-get install -y $2)"; }
need tgtd tgt; need tgtadm tgt; need qemu-img qemu-utils; need iscsi-perf libiscsi-bin
need iscsi-readcapacity16 libiscsi-bin; need ss iproute2; need node nodejs
[ -n "${BENCH_OURS_URL:-}" ] || [ -f "$ROOT/dist/src/iscsi/server.js" ] || die "dist/ is missing our target: run npx tsc -p . first"

TMP=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/cinderblock-datapath.XXXXXX") || die "cannot create a temp dir"
TGT_PID=""; TGT_CTRL=""; OURS_PID=""

stop_tgtd() {
  [ -n "$TGT_PID" ] || return 0
  local adm="tgtadm -C $TGT_CTRL"
  timeout 10 $adm --lld iscsi --mode target --op delete --force --tid 1 >/dev/null 2>&1
  timeout 10 $adm --lld iscsi --mode target --op delete --force --tid 2 >/dev/null 2>&1
  timeout 10 $adm --mode system --op delete >/dev/null 2>&1
  for _ in $(seq 20); do kill -0 "$TGT_PID" 2>/dev/null || break; sleep 0.1; done
  # tgtd ignores SIGTERM; if the orderly exit above did not happen, nothing else will.
  kill -9 "$TGT_PID" 2>/dev/null
  wait "$TGT_PID" 2>/dev/null
  rm -f "/var/run/tgtd/socket.$TGT_CTRL" "/var/run/tgtd/socket.$TGT_CTRL.lock"
  TGT_PID=""
}
stop_ours() {
  [ -n "$OURS_PID" ] || return 0
  kill -TERM "$OURS_PID" 2>/dev/null
  # A graceful exit is what lets --cpu-prof write its profile; give it a few seconds.
  for _ in $(seq 100); do kill -0 "$OURS_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$OURS_PID" 2>/dev/null
  wait "$OURS_PID" 2>/dev/null
  OURS_PID=""
}
cleanup() { stop_tgtd; stop_ours; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

tgtd_listening() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -q "pid=$TGT_PID,"; }
# A port no socket uses now, below the kernel's ephemeral range so that outgoing connections
# do not take it between this check and tgtd's bind (a lost race is retried by start_tgtd).
pick_port() {
  local p low
  low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
  [ "${low:-0}" -gt 11000 ] || low=32768
  for _ in $(seq 50); do
    p=$((10000 + RANDOM % (low - 10000)))
    [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return 0; }
  done
  return 1
}

# ---------- the two targets ----------
# Both files start full of the same incompressible data. Left sparse, a read test would measure
# how each target reads holes, and over how much of each file the earlier write tests happened
# to get, which depends on the very speed being measured.
prefill() {
  head -c 1048576 /dev/urandom >"$TMP/chunk" || return 1
  yes "$TMP/chunk" | head -n "$SIZE_MIB" | xargs cat >"$TMP/tgtd.img" || return 1
  cp --sparse=never "$TMP/tgtd.img" "$TMP/tuned.img" || return 1
  cp --sparse=never "$TMP/tgtd.img" "$TMP/ours.img" || return 1
  rm -f "$TMP/chunk"
  # Written back now rather than during the first tests.
  sync "$TMP/tgtd.img" "$TMP/tuned.img" "$TMP/ours.img"
}
prefill || die "cannot write the backing files in $TMP"
start_tgtd() {
  local port adm tid iqn who
  for attempt in 1 2 3; do
    port=$(pick_port) || die "no free port for tgtd"
    # A private management socket so that no other tgtd on this host (e.g. Cinder's, on -C 0) is touched.
    for _ in $(seq 50); do
      TGT_CTRL=$((1000 + RANDOM % 30000))
      [ -e "/var/run/tgtd/socket.$TGT_CTRL" ] || break
    done
    setsid tgtd -f -C "$TGT_CTRL" --iscsi "portal=127.0.0.1:$port" >"$TMP/tgtd.log" 2>&1 </dev/null &
    TGT_PID=$!
    # tgtd stays up without its portal when the bind fails, so watch its log as well.
    for _ in $(seq 100); do
      tgtd_listening "$port" && break
      grep -q 'failed to create/bind' "$TMP/tgtd.log" && break
      kill -0 "$TGT_PID" 2>/dev/null || break
      sleep 0.1
    done
    tgtd_listening "$port" && break
    log "tgtd could not listen on 127.0.0.1:$port (attempt $attempt): $(grep -m1 -i 'bind\|error' "$TMP/tgtd.log")"
    stop_tgtd
  done
  [ -n "$TGT_PID" ] || { cat "$TMP/tgtd.log" >&2; die "tgtd did not start"; }
  adm="tgtadm -C $TGT_CTRL --lld iscsi"
  $adm --mode account --op new --user "$CHAP_USER" --password "$CHAP_PASS" || die "tgtadm failed to add the CHAP account"
  # Target 1 keeps tgtd's defaults; target 2 raises MaxRecvDataSegmentLength from 8192 to the
  # 262144 our target declares, so that writes reach it in PDUs as large as ours get.
  for tid in 1 2; do
    if [ $tid = 1 ]; then who=tgtd; else who=tuned; fi
    iqn="iqn.2010-10.org.openstack:volume-$(cat /proc/sys/kernel/random/uuid)"
    $adm --mode target --op new --tid $tid --targetname "$iqn" &&
    $adm --mode logicalunit --op new --tid $tid --lun 1 --backing-store "$TMP/$who.img" &&
    $adm --mode logicalunit --op update --tid $tid --lun 1 --params thin_provisioning=1 &&
    { [ $tid = 1 ] || $adm --mode target --op update --tid $tid --name MaxRecvDataSegmentLength --value 262144; } &&
    $adm --mode target --op bind --tid $tid --initiator-address 127.0.0.1 &&
    $adm --mode account --op bind --tid $tid --user "$CHAP_USER" || die "tgtadm failed to configure tgtd target $tid"
    URL[$who]="iscsi://$CHAP_USER%$CHAP_PASS@127.0.0.1:$port/$iqn/1"
  done
}

start_ours() {
  local ready
  # shellcheck disable=SC2086  # BENCH_NODE_OPTS is a list of flags
  node ${BENCH_NODE_OPTS:-} "$HERE/datapath-target.mjs" --file "$TMP/ours.img" \
    --chap-user "$CHAP_USER" --chap-secret "$CHAP_PASS" --allow "$INITIATOR,$QEMU_INITIATOR" >"$TMP/ours.out" 2>"$TMP/ours.log" </dev/null &
  OURS_PID=$!
  for _ in $(seq 200); do
    ready=$(grep -m1 '^READY ' "$TMP/ours.out" 2>/dev/null) && break
    kill -0 "$OURS_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "${ready:-}" ] || { tail -20 "$TMP/ours.log" >&2; die "our target did not report READY"; }
  URL[ours]=${ready#READY }
}

# Per target: its URL, the process whose CPU it uses, and its LUN's block size.
declare -A URL PID BLOCK
TARGETS="tgtd tuned ours"
start_tgtd
PID[tgtd]=$TGT_PID; PID[tuned]=$TGT_PID
if [ -n "${BENCH_OURS_URL:-}" ]; then
  URL[ours]=$BENCH_OURS_URL
  PID[ours]=${BENCH_OURS_PID:-}
else
  start_ours
  PID[ours]=$OURS_PID
fi

# Both LUNs must look the same to the initiator, or the figures compare different work.
capacity() { timeout 20 iscsi-readcapacity16 -i "$INITIATOR" "$1" 2>/dev/null; }
size_of() { printf '%s\n' "$1" | awk -F: '/^Total size/ {print $2+0}'; }
block_of() { printf '%s\n' "$1" | awk -F: '/^LOGICAL BLOCK LENGTH/ {print $2+0}'; }
for who in $TARGETS; do
  cap=$(capacity "${URL[$who]}")
  [ -n "$(size_of "$cap")" ] || die "the $who LUN does not answer READ CAPACITY(16) at ${URL[$who]/$CHAP_PASS/***}"
  [ "$who" = tgtd ] || [ "$(size_of "$cap")" = "$TGT_SIZE" ] ||
    log "warning: LUN sizes differ (tgtd $TGT_SIZE, $who $(size_of "$cap"))"
  [ "$who" = tgtd ] && TGT_SIZE=$(size_of "$cap")
  BLOCK[$who]=$(block_of "$cap")
done

# ---------- measuring ----------
ticks() { [ -n "$1" ] && awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo ""; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {if (NR == 0) exit; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# qemu-img bench has no time limit, only a request count; COUNT[key] remembers, per test and
# target, the count that lasts about SECS, scaled from one probe long enough to time (>= 0.1 s).
declare -A COUNT
qemu_run() { # url mode bs qd count -> run seconds
  local w=""; [ "$2" = write ] && w=-w
  timeout 120 qemu-img bench $w -f raw -c "$5" -d "$4" -s "$3" -S "$3" "$1" 2>"$TMP/client.err" |
    awk '/Run completed in/ {print $4}'
}
qemu_calibrate() { # key url mode bs qd
  local c=32 t
  [ "$4" = 4k ] && c=512
  for _ in $(seq 6); do
    t=$(qemu_run "$2" "$3" "$4" "$5" "$c")
    [ -n "$t" ] || { log "qemu-img bench failed: $(tail -1 "$TMP/client.err")"; return 1; }
    awk -v t="$t" 'BEGIN {exit !(t >= 0.1)}' && break
    c=$((c * 8))
  done
  COUNT[$1]=$(awk -v c="$c" -v t="$t" -v s="$SECS" 'BEGIN {n = int(c * s / (t > 0.001 ? t : 0.001)); print (n < 1 ? 1 : n)}')
}

# One repetition against one target. Sets VALUE and CPU (both empty when the client failed);
# not a command substitution, because the calibrated counts must outlive the call.
measure() { # test-name url cpu-pid block-size
  local name=$1 url=$2 pid=$3 block=$4 t0 t1 t out iops kind mode bs qd unit requests
  VALUE=""; CPU=""; COST=""
  read -r kind mode bs qd unit <<<"$(spec "$name")"
  if [ "$kind" = qemu ]; then
    local key="$name $url"
    [ -n "${COUNT[$key]:-}" ] || qemu_calibrate "$key" "$url" "$mode" "$bs" "$qd" || return
    t0=$(ticks "$pid")
    t=$(qemu_run "$url" "$mode" "$bs" "$qd" "${COUNT[$key]}")
    t1=$(ticks "$pid")
    [ -n "$t" ] || { log "$name: $(tail -1 "$TMP/client.err")"; return; }
    if [ "$unit" = IOPS ]; then
      VALUE=$(awk -v c="${COUNT[$key]}" -v t="$t" 'BEGIN {printf "%.0f", c / t}')
    else
      VALUE=$(awk -v c="${COUNT[$key]}" -v t="$t" -v b="$bs" 'BEGIN {sub(/M$/, "", b); printf "%.0f", c * b / t}')
    fi
    requests=${COUNT[$key]}
  else
    t0=$(ticks "$pid")
    out=$(timeout $((PERF_SECS + 30)) iscsi-perf -i "$INITIATOR" -t "$PERF_SECS" -m "$qd" -b $((4096 / block)) -r "$url" 2>&1 | tr '\r' '\n')
    t1=$(ticks "$pid")
    iops=$(printf '%s\n' "$out" | awk '/^ *iops average/ {v = $3} END {print v}')
    [ -n "$iops" ] || { log "$name: $(printf '%s\n' "$out" | tail -2)"; return; }
    t=$PERF_SECS; VALUE=$iops; requests=$((iops * PERF_SECS))
  fi
  if [ -n "$t0" ] && [ -n "$t1" ]; then
    CPU=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK" -v t="$t" 'BEGIN {printf "%.0f", 100 * (b - a) / hz / t}')
    COST=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK" -v n="$requests" 'BEGIN {if (n > 0) {c = 1e6 * (b - a) / hz / n; printf (c < 100 ? "%.1f" : "%.0f"), c}}')
  fi
}

# name -> "client mode block-size queue-depth unit"; the label is what the table prints.
ALL_TESTS="seq_write_1m_qd1 seq_write_1m_qd8 seq_read_1m_qd1 seq_read_1m_qd8 write_4k_qd1 write_4k_qd32 read_4k_qd1 read_4k_qd32 randread_4k_qd1 randread_4k_qd32"
spec() {
  case $1 in
    seq_write_1m_qd1) echo "qemu write 1M 1 MiB/s" ;;
    seq_write_1m_qd8) echo "qemu write 1M 8 MiB/s" ;;
    seq_read_1m_qd1)  echo "qemu read 1M 1 MiB/s" ;;
    seq_read_1m_qd8)  echo "qemu read 1M 8 MiB/s" ;;
    write_4k_qd1)     echo "qemu write 4k 1 IOPS" ;;
    write_4k_qd32)    echo "qemu write 4k 32 IOPS" ;;
    read_4k_qd1)      echo "qemu read 4k 1 IOPS" ;;
    read_4k_qd32)     echo "qemu read 4k 32 IOPS" ;;
    randread_4k_qd1)  echo "perf read 4k 1 IOPS" ;;
    randread_4k_qd32) echo "perf read 4k 32 IOPS" ;;
    *) return 1 ;;
  esac
}
# The row name without its unit and client, for the CPU-per-request table.
short_label() {
  local mode bs qd
  read -r _ mode bs qd _ <<<"$(spec "$1")"
  case $1 in
    seq_*) echo "seq $mode 1 MiB QD$qd" ;;
    randread_*) echo "4 KiB random read QD$qd" ;;
    *) echo "4 KiB $mode QD$qd" ;;
  esac
}
label() {
  local kind unit
  read -r kind _ _ _ unit <<<"$(spec "$1")"
  if [ "$kind" = perf ]; then echo "$(short_label "$1") ($unit, iscsi-perf)"; else echo "$(short_label "$1") ($unit, qemu-img bench)"; fi
}

TESTS=${BENCH_TESTS:-$ALL_TESTS}
for t in $TESTS; do spec "$t" >/dev/null || die "unknown test $t (known: $ALL_TESTS)"; done

# Our target runs on a JIT: without a warm-up the first rows would measure V8 compiling the
# hot path. tgtd gets the same treatment, which also brings its file into the same state.
for who in $TARGETS; do
  url=${URL[$who]}
  qemu_run "$url" write 1M 8 256 >/dev/null
  qemu_run "$url" write 4k 8 8192 >/dev/null
  qemu_run "$url" read 4k 8 8192 >/dev/null
done

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)
log "tgtd pid $TGT_PID, ours pid ${PID[ours]:-unknown}; ${SIZE_MIB} MiB LUNs; ${REPS} x ~${SECS}s per test and target; load $LOAD_START"

ROWS=()
COSTS=()
MISSED=()
MISSED_TUNED=()
OURS_DIED=0
# Meets the goal: ratio >= 1, and >= 1.5 on sequential write.
meets() { # test ratio
  local need=1
  case $1 in seq_write_*) need=1.5 ;; esac
  awk -v r="${2:-0}" -v n="$need" 'BEGIN {exit !(r >= n)}'
}
for t in $TESTS; do
  if [ "$OURS_DIED" = 0 ] && [ -n "$OURS_PID" ] && ! kill -0 "$OURS_PID" 2>/dev/null; then
    OURS_DIED=1
    log "our target exited before $t; the last lines of its output:"
    tail -20 "$TMP/ours.log" >&2
  fi
  declare -A VALS=() CPUS=() COSTS_OF=() RATIOS=()
  # Rotate which target goes first, so a burst of other load on the host lands on all of them.
  for r in $(seq "$REPS"); do
    case $((r % 3)) in
      1) order="tgtd tuned ours" ;;
      2) order="ours tgtd tuned" ;;
      0) order="tuned ours tgtd" ;;
    esac
    declare -A PAIR=()
    for who in $order; do
      measure "$t" "${URL[$who]}" "${PID[$who]:-}" "${BLOCK[$who]}"
      [ -n "$VALUE" ] || continue
      VALS[$who]+="$VALUE "; PAIR[$who]=$VALUE
      [ -n "$CPU" ] && CPUS[$who]+="$CPU " && COSTS_OF[$who]+="$COST "
    done
    # Ratios within one repetition, whose runs were back to back.
    for ref in tgtd tuned; do
      [ -n "${PAIR[$ref]:-}" ] && [ -n "${PAIR[ours]:-}" ] &&
        RATIOS[$ref]+="$(awk -v a="${PAIR[$ref]}" -v b="${PAIR[ours]}" 'BEGIN {if (a > 0) printf "%.3f", b / a}') "
    done
  done
  # shellcheck disable=SC2086  # the lists are space-separated on purpose
  {
    T=$(median ${VALS[tgtd]:-}); U=$(median ${VALS[tuned]:-}); O=$(median ${VALS[ours]:-})
    TC=$(median ${CPUS[tgtd]:-}); UC=$(median ${CPUS[tuned]:-}); OC=$(median ${CPUS[ours]:-})
    # The median of the per-repetition ratios, not a ratio of medians: load that comes and
    # goes between repetitions then cancels out.
    RT=$(median ${RATIOS[tgtd]:-}); RU=$(median ${RATIOS[tuned]:-})
    COSTS+=("| $(short_label "$t") | $(median ${COSTS_OF[tgtd]:-}) | $(median ${COSTS_OF[tuned]:-}) | $(median ${COSTS_OF[ours]:-}) |")
  }
  [ -n "$RT" ] && RT=$(awk -v r="$RT" 'BEGIN {printf "%.2f", r}')
  [ -n "$RU" ] && RU=$(awk -v r="$RU" 'BEGIN {printf "%.2f", r}')
  meets "$t" "$RT" || MISSED+=("$t")
  meets "$t" "$RU" || MISSED_TUNED+=("$t")
  ROWS+=("| $(label "$t") | ${T:-failed} | ${U:-failed} | ${O:-failed} | ${RT:-–} | ${RU:-–} | ${TC:-?} | ${UC:-?} | ${OC:-?} |")
  log "$t: tgtd ${T:-failed} (${VALS[tgtd]:-}), tuned ${U:-failed} (${VALS[tuned]:-}), ours ${O:-failed} (${VALS[ours]:-}); ratios to tgtd ${RATIOS[tgtd]:-none}, to tuned ${RATIOS[tuned]:-none}; load $(cut -d' ' -f1 /proc/loadavg)"
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

echo "| test | tgtd | tgtd tuned | ours | ours / tgtd | ours / tuned | tgtd CPU% | tuned CPU% | our CPU% |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${ROWS[@]}"
echo
# CPU per request moves far less with other load on the host than throughput does, so it
# shows whether a change made the target cheaper even when the rows above are noisy.
echo "| CPU time per request, µs | tgtd | tgtd tuned | ours |"
echo "| --- | ---: | ---: | ---: |"
printf '%s\n' "${COSTS[@]}"
echo
echo "host: $(nproc) cores, load average $LOAD_START at the start, $LOAD_END at the end; ${REPS} x ~${SECS}s per cell, median; $(($(date +%s) - START)) s of measuring"
if [ ${#MISSED[@]} -eq 0 ]; then
  echo "goal met: ours >= tgtd on every row and >= 1.5x on sequential write"
else
  echo "goal missed on: ${MISSED[*]} (needs ratio >= 1, and >= 1.5 for seq write)"
fi
if [ ${#MISSED_TUNED[@]} -eq 0 ]; then
  echo "against tgtd tuned: also >= 1 on every row and >= 1.5x on sequential write"
else
  echo "against tgtd tuned: below the same bar on ${MISSED_TUNED[*]}"
fi
