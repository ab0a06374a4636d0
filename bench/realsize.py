"""The real amazon/chronos-2 architecture with random weights: the real model's compute cost."""

from __future__ import annotations

from pathlib import Path

import torch
from chronos.chronos2 import Chronos2Model

from chronos_excel.training import build_config


def build_real_size_model(directory: Path) -> Path:
    """Save amazon/chronos-2's architecture (d_model 768, 12 layers, 12 heads, d_ff 3072) with random weights."""
    config = build_config(d_model=768, d_ff=3072, num_layers=12, num_heads=12)
    torch.manual_seed(0)
    Chronos2Model(config).save_pretrained(directory)
    return directory
