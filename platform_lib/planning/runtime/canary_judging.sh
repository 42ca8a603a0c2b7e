# shellcheck shell=bash
# runtime/canary_judging.sh: a judged period's figures, from the access log, and its decision
# (planning/canary_analysis.py counts and decides the same).

# platform_canary_offset LOG: the access log's size now (where a judged period starts).
platform_canary_offset() { stat -c %s "$1" 2>/dev/null || printf '0'; }

# platform_canary_tally LOG OFFSET OLD_ADDRESSES NEW_ADDRESSES: "OLD_REQUESTS OLD_FAILURES
# OLD_P99 NEW_REQUESTS NEW_FAILURES NEW_P99" of the log's lines from OFFSET (p99 `-`: none
# answered), counted as planning/canary_analysis.py tally counts them. Addresses are
# space-separated.
platform_canary_tally() {
  local log=$1 offset=$2 size
  size=$(platform_canary_offset "$log")
  ((size >= offset)) || offset=0  # the log was rotated since
  { [[ ! -f $log ]] || tail -c +"$((offset + 1))" "$log"; } | awk -F'\t' -v old="$3" -v new="$4" '
    BEGIN {
      n = split(old, a, " "); for (i = 1; i <= n; i++) rel[a[i]] = 1
      n = split(new, a, " "); for (i = 1; i <= n; i++) rel[a[i]] = 2
    }
    NF == 6 {
      k = split($2, addr, /, | : /); split($4, st, /, | : /); split($6, tm, /, | : /)
      for (i = 1; i <= k; i++) {
        host = addr[i]; sub(/:[^:]*$/, "", host)
        if (!(host in rel)) continue
        r = rel[host]; req[r]++
        if (st[i] !~ /^[1-4][0-9][0-9]$/) { fail[r]++; continue }
        if (tm[i] !~ /^[0-9]+(\.[0-9]([0-9][0-9]?)?)?$/) continue
        split(tm[i], p, "."); frac = substr(p[2] "000", 1, 3)
        ms = p[1] * 1000 + frac; count[r, ms]++; answered[r]++
        if (ms > top[r]) top[r] = ms
      }
    }
    function p99(r,   rank, sum, ms) {
      if (!answered[r]) return "-"
      rank = int((99 * answered[r] + 99) / 100)
      for (ms = 0; ms <= top[r]; ms++) if ((sum += count[r, ms]) >= rank) return ms
    }
    END { printf "%d %d %s %d %d %s\n", req[1], fail[1], p99(1), req[2], fail[2], p99(2) }'
}

# platform_canary_judge MAX_ERROR_PERCENT MAX_P99_MS MAX_P99_RATIO MIN_REQUESTS FIGURES...
# (the six of platform_canary_tally): "VERDICT<TAB>REASON", decided as
# planning/canary_analysis.py judge decides (the same products compared, the same words).
platform_canary_judge() {
  awk -v maxerr="$1" -v maxp99="$2" -v ratio="$3" -v least="$4" -v or="$5" -v of="$6" \
    -v op="$7" -v nr="$8" -v nf="$9" -v np="${10}" '
    function pct(f, r,   t) {
      if (r == 0) return "0%"
      t = int((f * 2000 + r) / (2 * r))
      return (t % 10) ? sprintf("%d.%d%%", int(t / 10), t % 10) : sprintf("%d%%", int(t / 10))
    }
    BEGIN {
      if (nr < least) { printf "not-enough-requests\t%d requests reached the new release, %d needed\n", nr, least; exit }
      if (nf * 100 > maxerr * nr && (or == 0 || nf * or > of * nr)) {
        printf "fail\terror rate %s of %d requests, over %s%% (old release: %s of %d)\n", pct(nf, nr), nr, maxerr, pct(of, or), or; exit
      }
      if (maxp99 != "" && np != "-" && np + 0 > maxp99 + 0) { printf "fail\tp99 %dms over %dms\n", np, maxp99; exit }
      if (ratio != "" && np != "-" && op != "-" && or >= least && np + 0 > ratio * (op > 1 ? op : 1)) {
        printf "fail\tp99 %dms over %sx the old release'"'"'s %dms\n", np, ratio, op; exit
      }
      printf "pass\t\n"
    }'
}

# platform_canary_figures FIGURE...: the six figures as the JSON of two CanaryFigures, "OLD NEW".
platform_canary_figures() {
  local -a p99=("$3" "$6")
  local i
  for i in 0 1; do [[ ${p99[i]} == - ]] && p99[i]=null; done
  printf '%s %s\n' "$(platform_json_object '#requests' "$1" '#failures' "$2" '#p99_ms' "${p99[0]}")" \
    "$(platform_json_object '#requests' "$4" '#failures' "$5" '#p99_ms' "${p99[1]}")"
}

# platform_canary_decide BASE RELEASE SVC STEP WEIGHT VERDICT REASON DECIDED_MS FIGURE...: the
# decision (models/records.py CanaryDecision) into rollout/decisions.jsonl and the history,
# with the outcome `passed` or `rolled-back` (or `promoted`: a person's).
platform_canary_decide() {
  local base=$1 release=$2 svc=$3 step=$4 weight=$5 verdict=$6 reason=$7 decided=$8
  local old new decision outcome
  shift 8
  read -r old new < <(platform_canary_figures "$@")
  decision=$(platform_json_object '#version' 1 service "$svc" step "$step" '#weight' "$weight" \
    verdict "$verdict" reason "$reason" '#new' "$new" '#old' "$old" \
    '#decided_ms' "$decided") || return 1
  printf '%s\n' "$decision" >>"$base/rollout/decisions.jsonl"
  case $verdict in
    pass) outcome=passed ;;
    promoted) outcome=promoted ;;
    *) outcome=rolled-back ;;
  esac
  platform_history_append "$base" event canary outcome "$outcome" actor "${PLATFORM_ACTOR:-}" \
    plan "${PLATFORM_PLAN_ID:-}" release "$release" step "${PLATFORM_STEP_ID:-$step}" \
    reason "$reason" '#decision' "$decision"
}
