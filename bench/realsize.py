"""The real amazon/chronos-2 architecture with random weights: the real model's compute cost."""

from __future__ import annotations

from pathlib import Path

import torch
from chronos.chronos2 import Chronos2CoreConfig, Chronos2Model

QUANTILES = [0.01, *[round(0.05 * i, 2) for i in range(1, 20)], 0.99]


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
        chronos_config={
            "context_length": 8192,
            "input_patch_size": 16,
            "input_patch_stride": 16,
            "output_patch_size": 16,
            "max_output_patches": 64,
            "quantiles": QUANTILES,
            "time_encoding_scale": 8192,
            "use_arcsinh": True,
            "use_reg_token": True,
        },
    )
    torch.manual_seed(0)
    Chronos2Model(config).save_pretrained(directory)
    return directory
