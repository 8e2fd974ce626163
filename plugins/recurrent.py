"""The torch module behind the ``rnn``, ``lstm`` and ``gru`` models (imported only when built)."""

from __future__ import annotations

import torch
from bench_plugins.setmodels import AttentionPool, masked_pool, valid_mask
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentClassifier(nn.Module):
    """Input projection → recurrent layers over packed sequences → pooling → classifier.

    Every batch starts from a zero state (no state is carried between batches or images), and
    nothing is modified in place on tensors autograd needs: the seed's LSTM crash cannot recur.
    """

    def __init__(
        self,
        cell: str,
        input_dim: int,
        num_classes: int,
        hidden_size: int = 128,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.1,
        pooling: str = "mean",
        nonlinearity: str = "tanh",
    ):
        super().__init__()
        self.pooling = pooling
        self.embed = nn.Sequential(nn.Linear(input_dim, hidden_size), nn.LayerNorm(hidden_size), nn.GELU())
        extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        self.recurrent = CELLS[cell](
            hidden_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
            **extra,
        )
        width = hidden_size * (2 if bidirectional else 1)
        self.attention = AttentionPool(width) if pooling == "attention" else None
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, num_classes))

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        output, hidden = self.recurrent(packed)
        if self.pooling == "last":
            h = hidden[0] if isinstance(hidden, tuple) else hidden  # LSTM returns (h, c)
            directions = 2 if self.recurrent.bidirectional else 1
            last_layer = h.view(self.recurrent.num_layers, directions, *h.shape[1:])[-1]
            pooled = last_layer.transpose(0, 1).reshape(h.shape[1], -1)
        else:
            padded, _ = pad_packed_sequence(output, batch_first=True, total_length=tokens.shape[1])
            mask = valid_mask(lengths, tokens.shape[1], tokens.device)
            if self.attention is not None:
                pooled = self.attention(padded, mask)
            else:
                pooled = masked_pool(padded, mask, self.pooling)
        return self.head(pooled)
