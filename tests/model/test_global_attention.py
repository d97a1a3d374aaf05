import torch

from deblur_cli.model.global_attention import GlobalAttention
from deblur_cli.model.recorder import Recorder


def test_recorded_maps_are_softmax_over_pixels():
    attn = GlobalAttention(8, 4)
    attn.name = "a"
    rec = Recorder()
    attn(torch.randn(2, 8, 7, 9), recorder=rec)
    maps = rec.attention["a"]
    assert maps.shape == (2, 4, 7, 9)
    torch.testing.assert_close(maps.sum(dim=(2, 3)), torch.ones(2, 4))


def test_group_attends_over_all_patches_of_an_image_together():
    """Two patches attended as one group equal the same pixels laid side by side in one image."""
    attn = GlobalAttention(8, 4)
    left, right = torch.randn(1, 8, 5, 6), torch.randn(1, 8, 5, 6)
    grouped = attn(torch.cat([left, right], dim=0), group=2)
    whole = attn(torch.cat([left, right], dim=3))
    torch.testing.assert_close(torch.cat([grouped[0:1], grouped[1:2]], dim=3), whole, rtol=1e-4, atol=1e-5)


def test_cross_attention_reads_from_the_source():
    attn = GlobalAttention(8, 4, source_channels=6)
    x = torch.randn(3, 8, 5, 5)  # 3 patches of one image
    source = torch.randn(1, 6, 12, 12)
    out = attn(x, source, group=3, source_group=1)
    changed = attn(x, source + torch.randn_like(source), group=3, source_group=1)
    assert out.shape == x.shape
    assert not torch.allclose(out, changed)
