"""Tensors and modules survive pickle, deepcopy and a spawned worker process, and train after."""

import copy
import multiprocessing
import pickle
import sys

import numpy as np
from helpers import train_losses

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn


def _losses(model, steps=5):
    x, y = Tensor(np.linspace(-1, 1, 40).reshape(8, 5)), np.arange(8) % 3
    return train_losses(model, x, y, steps, lr=0.5)


def _model():
    tc.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 100), nn.ReLU(), nn.Linear(100, 3))


def test_a_pickled_or_deep_copied_model_trains_as_the_original():
    expected = _losses(_model())
    assert _losses(pickle.loads(pickle.dumps(_model()))) == expected
    assert _losses(copy.deepcopy(_model())) == expected


def test_copying_a_tensor_with_a_live_graph_drops_the_graph_quietly(monkeypatch):
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    for copied in (copy.deepcopy(y), pickle.loads(pickle.dumps(y))):
        assert copied.is_leaf and copied.requires_grad and copied.tolist() == [1.0, 4.0]
        del copied
    y.backward(np.ones(2))
    assert x.grad.tolist() == [2.0, 4.0]
    del y
    assert unraisable == []


def _train_in_worker(model):
    return _losses(model)


def test_a_spawned_worker_trains_a_model_it_received():
    expected = _losses(_model())
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_train_in_worker, (_model(),)) == expected
