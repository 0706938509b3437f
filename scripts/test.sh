#!/usr/bin/env bash
# The whole test suite, the README's second command and what CI runs:
#   static checks (types, lint, import direction) → unit (no root) → integration (root, netns)
#   → end-to-end (podman). Installs what it needs first. Ends with "N passed, N failed, N skipped".
# Usage: bash scripts/test.sh [unit|integration|e2e|static]...   (default: all)
set -uo pipefail
cd "$(dirname "$0")/.."

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(static unit integration e2e)
want() { local s; for s in "${stages[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

bash scripts/ensure-deps.sh --build || { echo "test: could not install dependencies or build dist/tartan" >&2; exit 1; }

# Test and lab namespaces that exist before the run (another session's bench lab, say) are not
# this run's leftovers; only the ones that appear during it are checked at the end.
ours_ns() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^(tt-|tl-)' | sort; }
ns_before=$(ours_ns)

log=$(mktemp /tmp/tartan-test.XXXXXX)
trap 'rm -f "$log"' EXIT
passed=0 failed=0 skipped=0 static_failed=0

run_static() {
  local name=$1; shift
  if "$@" >"$log" 2>&1; then
    echo "static: $name ok"
    passed=$((passed + 1))
  else
    cat "$log"
    echo "static: $name FAILED"
    failed=$((failed + 1))
    static_failed=1
  fi
}

# run_bun STAGE [ip netns exec NS] -- bun test arguments...
run_bun() {
  local stage=$1; shift
  local wrap=()
  while [ "$1" != "--" ]; do wrap+=("$1"); shift; done
  shift
  echo "== $stage: bun test $* ${wrap[*]:+(inside: ${wrap[*]})}"
  "${wrap[@]}" npx bun test --timeout 120000 "$@" 2>&1 | tee "$log"
  local p f s
  p=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | tr -dc 0-9)
  f=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | tr -dc 0-9)
  s=$(grep -Eo '^ *[0-9]+ skip$' "$log" | tail -1 | tr -dc 0-9)
  if [ -z "$p$f" ]; then
    echo "$stage: bun test printed no summary (crashed?)"
    f=1
  fi
  passed=$((passed + ${p:-0})) failed=$((failed + ${f:-0})) skipped=$((skipped + ${s:-0}))
}

if want static; then
  run_static "typecheck (tsc --noEmit, strict)" npx tsc --noEmit -p .
  run_static "lint and format (biome)" npx biome check src test bench scripts
  run_static "import direction and cycles" npx bun scripts/check-imports.ts
fi
want unit && run_bun unit -- test/unit
# Integration tests run inside a private network namespace of their own: whatever they serve or
# reach on loopback (etcd, agents' metrics) stays in a namespace the test run created.
if want integration; then
  runner_ns="tt-t-runner-$$"
  ip netns add "$runner_ns" && ip -n "$runner_ns" link set lo up
  trap 'ip netns del "$runner_ns" 2>/dev/null; rm -f "$log"' EXIT
  run_bun integration ip netns exec "$runner_ns" -- test/integration
  ip netns del "$runner_ns" 2>/dev/null
fi
want e2e && run_bun e2e -- test/e2e

# Leftovers are bugs: a test that does not clean up after itself.
leftover=$(comm -13 <(printf '%s\n' "$ns_before") <(ours_ns) | grep -v '^$' | tr '\n' ' ')
if [ -n "$leftover" ]; then
  echo "test: network namespaces left behind: $leftover"
  failed=$((failed + 1))
fi

echo
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
