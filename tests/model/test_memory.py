"""The memory rule the engine sizes tiles by."""

import torch

from deblur_cli.model import get_config
from deblur_cli.model.memory import network_bytes_per_pixel


def test_bytes_per_pixel_follow_width_precision_and_full_resolution_capms() -> None:
    assert network_bytes_per_pixel(get_config("saphnet-s"), torch.float32) == 2880
    assert network_bytes_per_pixel(get_config("saphnet-s"), torch.float16) == 1440
    assert network_bytes_per_pixel(get_config("saphnet-b"), torch.float32) == 2880
    # width 8 with CAPMs at full resolution (scale 0): doubled
    assert network_bytes_per_pixel(get_config("saphnet-test"), torch.float32) == 1440
