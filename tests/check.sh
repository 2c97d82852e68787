# shellcheck shell=bash
# Sourced by the shell tests: counts checks, prints the failed ones, and gives the exit status.
#   check NAME EXPECTED ACTUAL   one check (strings compared exactly)
#   checks_done NAME             prints "NAME: P passed, F failed"; false when any failed
passed=0
failed=0

check() {
  if [ "$2" == "$3" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL %s\n  expected: %q\n  actual:   %q\n' "$1" "$2" "$3"
  fi
}

checks_done() {
  echo "$1: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
