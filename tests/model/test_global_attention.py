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


def _attention_by_the_formula(attn, x, source, group, source_group):
    """DESIGN.md's formula, pixel by pixel: project every source pixel to values, pool them by the maps, mix
    the descriptors per query pixel, project every output pixel."""
    def pixels(t, g):  # (g*n, C, h, w) -> (n, g*h*w, C)
        return t.permute(0, 2, 3, 1).reshape(t.shape[0] // g, -1, t.shape[1])

    maps = torch.softmax(pixels(attn.to_keys(source), source_group), dim=1)  # over each context's pixels
    descriptors = maps.transpose(1, 2) @ pixels(attn.to_values(source), source_group)
    queries = torch.softmax(attn.to_queries(x), dim=1)
    out = pixels(queries, 1) @ descriptors.repeat_interleave(group, dim=0)
    b, _, h, w = x.shape
    return attn.proj(out.view(b, h, w, -1).permute(0, 3, 1, 2))


def test_pooling_before_projecting_equals_the_formula():
    torch.manual_seed(0)
    attn = GlobalAttention(8, 4, source_channels=6)
    torch.nn.init.normal_(attn.proj.weight)
    cases = [
        (torch.randn(2, 8, 5, 7), torch.randn(2, 6, 5, 7), 1, 1),  # two images
        (torch.randn(6, 8, 4, 4), torch.randn(2, 6, 9, 9), 3, 1),  # 3 patches per image, whole-image source
        (torch.randn(4, 8, 3, 5), torch.randn(4, 6, 3, 5), 2, 2),  # pairs of patches attend together
    ]
    for x, source, group, source_group in cases:
        for fmt in (torch.contiguous_format, torch.channels_last):
            x, source = x.contiguous(memory_format=fmt), source.contiguous(memory_format=fmt)
            torch.testing.assert_close(
                attn(x, source, group=group, source_group=source_group),
                _attention_by_the_formula(attn, x, source, group, source_group),
                rtol=1e-4, atol=1e-5,
            )
