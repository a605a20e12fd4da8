#!/bin/bash
# The adapted packages and held-out captures of models/reports/adapted-band-2026-12-06.md.
# Run from the repository root with a release build; CORPUS = the 240-room corpus
# (models/reports/coverage-2026-12-05.md, "Adopted", has its command), W = a scratch
# directory. A room whose adaptation the validation gate refuses is left out.
set -eu
D=target/release/dagr
W=${W:-/tmp/adapted-band}
mkdir -p $W
A=""; C=""
for r in 48 49 50 51 52 54; do
  p=$((r + 20))
  for s in 11 12 13; do
    [ -f $W/r${r}_s$s.mcap ] || $D sim --room $r --subject $p --seed $s --duration 300 --out $W/r${r}_s$s.mcap
  done
  if $D adapt --capture $W/r${r}_s11.mcap $W/r${r}_s12.mcap --model models/reference --out $W/adapted$r --force; then
    A="$A $W/adapted$r"; C="$C $W/r${r}_s13.mcap"
  fi
done
~/.cache/dagr/train-venv/bin/python models/guard_after_adaptation.py --source models/reference \
  --adapted $A --captures $C --data "$CORPUS" --dagr $D --out $W/result.json
