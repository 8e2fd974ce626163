"""Built-in sequence models: ``rnn``, ``lstm`` and ``gru``, from one recurrent classifier."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

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
        pooling: Literal["last", "mean", "max"] = Field(
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


@hookimpl
def bench_register_models() -> list[type[Model]]:
    return [RNN, LSTM, GRU]
