"""The real amazon/chronos-2 architecture with random weights: the real model's compute cost."""

from __future__ import annotations

from pathlib import Path

import torch
from chronos.chronos2 import Chronos2CoreConfig, Chronos2Model

from chronos_excel.training import CHRONOS_CONFIG


def build_real_size_model(directory: Path) -> Path:
    """Save amazon/chronos-2's architecture (d_model 768, 12 layers, 12 heads, d_ff 3072) with random weights."""
    config = Chronos2CoreConfig(
        d_model=768,
        d_kv=64,
        d_ff=3072,
        num_layers=12,
        num_heads=12,
        architectures=["Chronos2Model"],
        chronos_pipeline_class="Chronos2Pipeline",
        chronos_config=dict(CHRONOS_CONFIG),
    )
    torch.manual_seed(0)
    Chronos2Model(config).save_pretrained(directory)
    return directory
