"""Built-in sequence models: ``rnn``, ``lstm`` and ``gru``, from one recurrent classifier."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from benchmark import hookimpl
from benchmark.api import Model, Params


class Recurrent(Model):
    """Shared parameters and builder of the recurrent models."""

    cell: ClassVar[str] = ""

    class Params(Params):
        hidden_size: int = Field(128, ge=1, description="recurrent state width")
        num_layers: int = Field(1, ge=1, description="stacked recurrent layers")
        bidirectional: bool = Field(False, description="read each sequence both ways")
        dropout: float = Field(0.1, ge=0, lt=1, description="before the classifier and between layers")
        pooling: Literal["last", "mean", "max", "attention"] = Field(
            "mean", description="how the sequence of states becomes one vector"
        )

    def build(self, input_dim: int, num_classes: int):
        from bench_plugins.recurrent import RecurrentClassifier

        return RecurrentClassifier(self.cell, input_dim, num_classes, **self.params.model_dump())


class RNN(Recurrent):
    """Vanilla (Elman) RNN: the seed experiment's model, batched and packed."""

    name = "rnn"
    cell = "rnn"

    class Params(Recurrent.Params):
        nonlinearity: Literal["tanh", "relu"] = "tanh"


class LSTM(Recurrent):
    """Long short-term memory."""

    name = "lstm"
    cell = "lstm"


class GRU(Recurrent):
    """Gated recurrent unit."""

    name = "gru"
    cell = "gru"


class DeepSetsModel(Model):
    """DeepSets: per-token MLP and order-free pooling; the baseline that ignores keypoint order."""

    name = "deepsets"

    class Params(Params):
        hidden_size: int = Field(256, ge=1)
        layers: int = Field(2, ge=1, description="per-token MLP layers")
        dropout: float = Field(0.1, ge=0, lt=1)
        pooling: Literal["mean", "max", "mean+max"] = "mean+max"

    def build(self, input_dim: int, num_classes: int):
        from bench_plugins.setmodels import DeepSets

        p = self.params
        return DeepSets(input_dim, num_classes, p.hidden_size, p.layers, p.dropout, p.pooling)


class Transformer(Model):
    """Transformer encoder over keypoint tokens, positions from keypoint geometry, padding masked."""

    name = "transformer"

    class Params(Params):
        width: int = Field(128, ge=8)
        heads: int = Field(4, ge=1)
        layers: int = Field(2, ge=1)
        dropout: float = Field(0.1, ge=0, lt=1)
        pooling: Literal["mean", "max", "attention"] = "attention"

        @model_validator(mode="after")
        def _heads_divide_width(self) -> Transformer.Params:
            if self.width % self.heads:
                raise ValueError(f"width {self.width} must be divisible by heads {self.heads}")
            return self

    def build(self, input_dim: int, num_classes: int):
        from bench_plugins.setmodels import TransformerClassifier

        p = self.params
        return TransformerClassifier(input_dim, num_classes, p.width, p.heads, p.layers, p.dropout, p.pooling)


@hookimpl
def bench_register_models() -> list[type[Model]]:
    return [RNN, LSTM, GRU, DeepSetsModel, Transformer]
