#!/bin/bash
# The probe's figures of host/sim/CALIBRATION.md ("Verdict", "Result: the probe on the
# reference's 240 training rooms"). Run from the repository root; CORPUS = the reference's
# 240-room corpus (models/reports/coverage-2026-12-05.md, "Adopted", has its command),
# F = where the per-capture features are kept between the runs (~75 MB).
set -eu
P=~/.cache/dagr/venv/bin/python
F=${F:-/tmp/probe-features}
OUT=models/reports/probe-2026-12-06
$P models/calibrate_sim.py --corpus "$CORPUS" --work $F --json $OUT/probe.json
for n in 24 60 120; do
  $P models/calibrate_sim.py --corpus "$CORPUS" --work $F --train-captures $n --json $OUT/probe_$n.json
done
$P models/calibrate_sim.py --corpus "$CORPUS" --work $F --test-parts test,val --json $OUT/probe_val.json
$P models/calibrate_sim.py --markdown $OUT/probe.json
$P models/calibrate_sim.py --curve $OUT/probe_24.json $OUT/probe_60.json $OUT/probe_120.json $OUT/probe.json
$P models/calibrate_sim.py --markdown $OUT/probe_val.json
