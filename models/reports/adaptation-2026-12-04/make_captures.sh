#!/bin/sh
# The captures of the adaptation study (models/reports/adaptation-2026-12-04.md): 8 (room,
# subject) pairs outside the reference model's corpus plan (rooms 101-108 with subjects
# 201-208; ids < 1000), per pair a 600 s labeled adaptation capture and a 240 s evaluation
# capture of the same room and person with another seed. Run from the repository root after
# `cargo build --release -p dagr-host --bin dagr`; OUT (default /tmp/ev-caps) gets 3.0 GB.
set -e
DAGR=${DAGR:-target/release/dagr}
OUT=${OUT:-/tmp/ev-caps}
mkdir -p "$OUT"
for i in 1 2 3 4 5 6 7 8; do
  r=$((100 + i)); s=$((200 + i))
  $DAGR sim --room $r --subject $s --seed $((300 + i)) --duration 600 --out "$OUT/adapt-r$r-s$s.mcap" --force
  $DAGR sim --room $r --subject $s --seed $((400 + i)) --duration 240 --out "$OUT/eval-r$r-s$s.mcap" --force
done
