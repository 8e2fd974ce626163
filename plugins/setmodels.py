"""Torch modules behind the ``deepsets`` and ``transformer`` models (imported only when built)."""

from __future__ import annotations

import torch
from torch import nn


def valid_mask(lengths: torch.Tensor, length: int, device: torch.device) -> torch.Tensor:
    """[batch, length] True where a token is real, False where it is padding."""
    return torch.arange(length, device=device)[None, :] < lengths[:, None].to(device)


def masked_pool(x: torch.Tensor, mask: torch.Tensor, how: str) -> torch.Tensor:
    """Mean, max, or mean ‖ max over the real tokens of ``x`` [batch, length, width]."""
    m = mask[..., None]
    mean = (x * m).sum(1) / m.sum(1).clamp(min=1)
    if how == "mean":
        return mean
    largest = x.masked_fill(~m, float("-inf")).amax(1)
    return largest if how == "max" else torch.cat([mean, largest], dim=-1)


class AttentionPool(nn.Module):
    """A learned query scores each real token; the softmax-weighted sum is the pooled vector."""

    def __init__(self, width: int):
        super().__init__()
        self.score = nn.Linear(width, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        scores = self.score(x).squeeze(-1).masked_fill(~mask, float("-inf"))
        return (torch.softmax(scores, dim=1)[..., None] * x).sum(1)


class DeepSets(nn.Module):
    """Per-token MLP, order-free pooling, MLP classifier: the baseline that ignores order."""

    def __init__(self, input_dim: int, num_classes: int, hidden_size: int, layers: int, dropout: float, pooling: str):
        super().__init__()
        blocks: list[nn.Module] = [nn.Linear(input_dim, hidden_size), nn.LayerNorm(hidden_size), nn.GELU()]
        for _ in range(layers - 1):
            blocks += [nn.Linear(hidden_size, hidden_size), nn.GELU()]
        self.phi = nn.Sequential(*blocks)
        self.pooling = pooling
        width = hidden_size * (2 if pooling == "mean+max" else 1)
        self.rho = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, hidden_size), nn.GELU(),
                                 nn.Dropout(dropout), nn.Linear(hidden_size, num_classes))

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = valid_mask(lengths, tokens.shape[1], tokens.device)
        return self.rho(masked_pool(self.phi(tokens), mask, self.pooling))


class TransformerClassifier(nn.Module):
    """Transformer encoder over keypoint tokens. Positions come from the keypoints' geometry
    (x, y, scale, angle are part of every token, projected with it); padding is masked."""

    def __init__(self, input_dim: int, num_classes: int, width: int, heads: int, layers: int, dropout: float,
                 pooling: str):
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(input_dim, width), nn.LayerNorm(width))
        layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=2 * width, dropout=dropout,
                                           batch_first=True, norm_first=True, activation="gelu")
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.pooling = pooling
        self.attention = AttentionPool(width) if pooling == "attention" else None
        self.head = nn.Sequential(nn.LayerNorm(width), nn.Dropout(dropout), nn.Linear(width, num_classes))

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = valid_mask(lengths, tokens.shape[1], tokens.device)
        x = self.encoder(self.embed(tokens), src_key_padding_mask=~mask)
        pooled = self.attention(x, mask) if self.attention is not None else masked_pool(x, mask, self.pooling)
        return self.head(pooled)
