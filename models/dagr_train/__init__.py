"""dagr_train: trains dagr-edge fusion models under the DAGR regularizer.

The data comes from the gateway's own path (`dagr sim` -> `dagr dataset export`), so a
model sees in training exactly the tensors the gateway computes live. Modules, one concept
each: `corpus` (simulate, export, split), `data` (read an export), `model` (encoders and
head), `loss` (DAGR), `diagnostics`, `dropout` (modality dropout), `degrade` (test-time
degradations), `train`, `evaluate`, `export` (the model package), `report`, `study`.
"""

MODALITIES = ("mmwave", "wifi", "rfid")
"""Modality names in the order of the `present` columns (the Rust `Modality::ALL`)."""

RESERVED_ID = 1000
"""Room and subject ids at or above this are kept for outside evaluation, never used here."""
