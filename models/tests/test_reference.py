"""The committed reference model package(s) under models/reference*/: onnxruntime
reproduces their parity files, and their model.json matches the ONNX graph and the
PreprocessSpec the current `dagr dataset export` writes (the tiny pipeline corpus uses the
default window and hop), so a change of the Rust preprocessing that would silently
invalidate the reference model fails here. Collected only once a reference package exists."""

import glob
import json
import os

import pytest
from test_pipeline import check_fusion, check_graph, check_parity

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = sorted(
    os.path.dirname(p)
    for p in glob.glob(os.path.join(HERE, "reference*", "model.onnx"))
)


@pytest.mark.parametrize("pkg", PACKAGES)
def test_reference_parity_reproduces_in_onnxruntime(pkg):
    check_parity(pkg)


@pytest.mark.parametrize("pkg", PACKAGES)
def test_reference_matches_the_current_preprocessing(pkg, package):
    data = package[0]
    check_graph(pkg, json.load(open(os.path.join(data, "dataset.json"))))


@pytest.mark.parametrize("pkg", PACKAGES)
def test_reference_logits_are_its_model_json_head(pkg):
    check_fusion(pkg)
