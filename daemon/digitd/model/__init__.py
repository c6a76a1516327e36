"""The model file format, training data sources, training and evaluation."""

from digitd.model.format import Model, load_model, save_model

__all__ = ["Model", "load_model", "save_model"]
