#!/bin/bash
# How much labeled data `dagr adapt` needs, and what it does with too little
# (models/reports/adapt-few-2026-12-06.md). Per held-out room (rooms 48-54, person = room
# + 20): one labeled capture of D seconds to adapt on (seed 11), a 300 s capture (seed
# 13) replayed to score. Prints one line per (room, D): the gate's exit code and the
# replay's accuracy. Run from the repository root; D = the dagr binary (default the
# release build), W = a scratch directory (~2 GB).
set -u
D=${D:-target/release/dagr}
W=${W:-/tmp/adapt-few}
mkdir -p $W
accuracy() { "$D" replay --model "$1" "$2" --json 2>&1 >/dev/null | awk '/^accuracy/{print $2}'; }
for r in 48 49 51 52 54; do
  p=$((r + 20))
  [ -f $W/r${r}_held.mcap ] || "$D" sim --room $r --subject $p --seed 13 --duration 300 --out $W/r${r}_held.mcap --force 2>/dev/null
  echo "room $r not adapted - $(accuracy models/reference $W/r${r}_held.mcap)"
  for d in 30 60 120 300; do
    [ -f $W/r${r}_d$d.mcap ] || "$D" sim --room $r --subject $p --seed 11 --duration $d --out $W/r${r}_d$d.mcap --force 2>/dev/null
    "$D" adapt --capture $W/r${r}_d$d.mcap --model models/reference --out $W/adapted_r${r}_d$d --force > $W/adapt_r${r}_d$d.log 2>&1
    code=$?
    classes=$(grep -o "labeled windows: .*" $W/adapt_r${r}_d$d.log | tr ',' '\n' | wc -l)
    if [ $code -eq 0 ]; then
      echo "room $r adapt ${d}s classes $classes exit 0 $(accuracy $W/adapted_r${r}_d$d $W/r${r}_held.mcap)"
    else
      echo "room $r adapt ${d}s classes $classes exit $code refused"
    fi
  done
done
