import pytest
import torch

from deblur_cli.model import create_model
from deblur_cli.model.config import SAPHNetConfig
from deblur_cli.train.shrink import shrink_state

WIDE = SAPHNetConfig(backbone="dmphn", width=8, blocks=2, capm_scales=(2,), attention_maps=4, filter_groups=2,
                     stages=2, budget=(0.25,), cell=8, halo=4, policy_width=8)
NARROW = SAPHNetConfig(backbone="dmphn", width=4, blocks=1, capm_scales=(), cross_attention=False,
                       filter_groups=2, stages=2, budget=(0.25,), cell=8, halo=4, policy_width=8)


def _half_width_teacher() -> torch.nn.Module:
    """A wide network that is secretly narrow: the upper half of every stage-1 channel dimension carries
    nothing, and every stack's second block is the identity."""
    torch.manual_seed(0)
    teacher = create_model(WIDE).eval()
    with torch.no_grad():
        for name, p in teacher.hierarchy.named_parameters():
            if ".capm." in name or ".skips." in name or "merges" in name:
                continue
            for dim in range(min(p.dim(), 2)):
                if p.shape[dim] > 3:
                    p.narrow(dim, p.shape[dim] // 2, p.shape[dim] - p.shape[dim] // 2).zero_()
            if ".blocks.1.body.2." in name:
                p.zero_()
    return teacher


def test_shrinking_keeps_the_channels_that_carry_the_network():
    teacher = _half_width_teacher()
    student = create_model(NARROW).eval()
    student.load_state_dict(shrink_state(teacher, student))
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        expected = teacher(x, budget=0.0).image
        got = student(x, budget=0.0).image
    assert torch.allclose(got, expected, atol=1e-5)
    assert not torch.allclose(expected, x, atol=1e-2)  # the comparison is not between two identities


def test_the_same_width_gives_the_same_stage_1():
    torch.manual_seed(1)
    teacher = create_model(WIDE).eval()
    student = create_model(WIDE, capm_scales=(), cross_attention=False).eval()
    student.load_state_dict(shrink_state(teacher, student))
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():  # the teacher's CAPMs and cross-attention start at zero: stage 1 is the same
        assert torch.allclose(student(x, budget=0.0).image, teacher(x, budget=0.0).image, atol=1e-5)


def test_only_a_narrower_dmphn_student_of_the_same_depth():
    teacher = create_model(WIDE)
    with pytest.raises(ValueError, match="no wider"):
        shrink_state(teacher, create_model(WIDE, width=16))
    with pytest.raises(ValueError, match="levels differ"):
        shrink_state(teacher, create_model(NARROW, levels=2))
    with pytest.raises(ValueError, match="dmphn backbone"):
        shrink_state(teacher, create_model("saphnet-test"))
