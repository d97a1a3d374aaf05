import torch

from deblur_cli.model.cells import CellGrid, gather_cells, scatter_cells


def test_gather_takes_cells_with_halo():
    grid = CellGrid(24, 24, cell=8, halo=2)
    x = torch.arange(24 * 24, dtype=torch.float32).view(1, 1, 24, 24)
    patches = gather_cells(x, torch.tensor([[4]]), grid)  # row 1, col 1
    assert patches.shape == (1, 1, 12, 12)
    torch.testing.assert_close(patches[0, 0], x[0, 0, 6:18, 6:18])


def test_scatter_of_unchanged_patches_is_exact():
    grid = CellGrid(32, 32, cell=8, halo=4)
    x = torch.rand(2, 3, 32, 32)
    cells = torch.tensor([[0, 5, 6], [15, 3, 9]])
    torch.testing.assert_close(scatter_cells(x, gather_cells(x, cells, grid), cells, grid), x)


def test_refined_cell_interior_replaced_and_far_cells_untouched():
    grid = CellGrid(32, 32, cell=8, halo=2)
    base = torch.zeros(1, 1, 32, 32)
    cells = torch.tensor([[5]])  # row 1, col 1: pixels 8..16
    out = scatter_cells(base, torch.ones(1, 1, 12, 12), cells, grid)
    assert torch.all(out[..., 8:16, 8:16] == 1)
    assert torch.all(out[..., 20:, :] == 0) and torch.all(out[..., :, 20:] == 0)
    halo_ring = out[..., 6:8, 8:16]
    assert torch.all((halo_ring > 0) & (halo_ring < 1))  # feathered, no hard seam


def test_chosen_mask_marks_cells():
    grid = CellGrid(16, 32, cell=8, halo=0)
    mask = grid.chosen_mask(torch.tensor([[0, 7]]))
    assert mask.shape == (1, 1, 2, 4)
    assert mask[0, 0, 0, 0] and mask[0, 0, 1, 3] and mask.sum() == 2


def test_gather_at_the_edges_replicates_border_pixels():
    grid = CellGrid(16, 24, cell=8, halo=3)
    x = torch.rand(2, 3, 16, 24, requires_grad=True)
    cells = torch.tensor([[0, 5], [2, 3]])  # every corner: top-left, bottom-right, top-right, bottom-left
    padded = torch.nn.functional.pad(x, [3] * 4, mode="replicate")
    expected = torch.stack(
        [padded[i, :, r * 8 : r * 8 + 14, c * 8 : c * 8 + 14] for i in range(2) for r, c in
         [divmod(int(k), 3) for k in cells[i]]]
    )
    patches = gather_cells(x, cells, grid)
    assert torch.equal(patches, expected)
    (grad,) = torch.autograd.grad(patches.square().sum(), x)
    (expected_grad,) = torch.autograd.grad(expected.square().sum(), x)
    torch.testing.assert_close(grad, expected_grad)


def test_each_image_gets_its_own_cells_and_channels_last_stays():
    grid = CellGrid(32, 32, cell=8, halo=2)
    base = torch.rand(2, 4, 32, 32).contiguous(memory_format=torch.channels_last)
    cells = torch.tensor([[0, 5], [15, 10]])
    refined = torch.rand(4, 4, 12, 12)
    out = scatter_cells(base, refined, cells, grid)
    for i in range(2):  # the same as scattering each image's own patches alone
        alone = scatter_cells(base[i : i + 1], refined[2 * i : 2 * i + 2], cells[i : i + 1], grid)
        torch.testing.assert_close(out[i : i + 1], alone)
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert gather_cells(base, cells, grid).is_contiguous(memory_format=torch.channels_last)
