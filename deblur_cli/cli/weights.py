"""`deblur weights ...`: list, pull, verify and push SAPHNet weights (parse, call, print; no logic here)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from ..errors import DeblurError
from ..model import list_presets
from ..weights import PRETRAINED, get_record, local_files, pull, push
from ..weights.dmphn_import import import_dmphn
from ..weights.resolve import resolves_from

app = typer.Typer(help="Manage SAPHNet weights: list, pull from the Hugging Face Hub, verify, push, import.",
                  no_args_is_help=True)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _known(preset: str) -> str:
    try:
        get_record(preset)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="PRESET") from None
    return preset


def _size(n: int) -> str:
    return f"{n / 2**20:.2f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


PresetArg = Annotated[str, typer.Argument(help="Preset name, e.g. saphnet-s.", callback=_known)]


@app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Also list the internal test preset.")] = False,
) -> None:
    """List presets: where each one's weights resolve from, their size and checksum state (no network)."""
    table = Table("preset", "resolves from", "size", "checksum", "file or repo")
    try:
        for preset in list_presets(include_test=all_):
            record = get_record(preset)
            files = local_files(preset)
            first = files[0] if files else None
            checksum = first.state if first else ("recorded" if record.trained else "none recorded")
            table.add_row(preset, resolves_from(preset, files), _size(first.size) if first else "-", checksum,
                          str(first.path) if first else record.where())
    except DeblurError as exc:
        _fail(str(exc))
    Console().print(table)


@app.command("pull")
def pull_(
    preset: PresetArg,
    repo: Annotated[str | None, typer.Option(help="Hub repo ORG/NAME (default: the preset's own).")] = None,
    revision: Annotated[str | None, typer.Option(help="Branch, tag or commit (default: pinned).")] = None,
    force: Annotated[bool, typer.Option(help="Download again even if cached.")] = False,
) -> None:
    """Download a preset's weights into the Hugging Face cache, then verify them."""
    try:
        unpublished = repo is None and not get_record(preset).published
        if unpublished and resolves_from(preset, local_files(preset)) == "bundled":
            typer.echo(f"{preset} ships inside the package (bundled) and is not published on the Hub: "
                       f"nothing to pull (`deblur weights verify {preset}` checks it)")
            return
        result = pull(preset, repo_id=repo, revision=revision, force=force)
    except DeblurError as exc:
        _fail(str(exc))
    check = "sha256 verified" if result.verified else f"unverified, sha256 {result.sha256}"
    where = f"{result.repo_id}@{result.revision}"
    if result.downloaded:
        typer.echo(f"downloaded {where} to {result.path} ({check})")
    else:
        typer.echo(f"{where} already in the cache at {result.path} ({check})")


@app.command("verify")
def verify_(
    preset: Annotated[str | None, typer.Argument(help="Preset to check (default: all).")] = None,
) -> None:
    """Re-hash bundled and cached weights against the recorded sha256; exit 1 on any mismatch."""
    presets = [_known(preset)] if preset else list(PRETRAINED)
    bad = 0
    try:
        for name in presets:
            files = local_files(name)
            if not files and preset:
                _fail(f"no bundled or cached weights for {name} to verify")
            for f in files:
                typer.echo(f"{name}\t{f.kind}\t{f.state}\t{f.sha256}\t{f.path}")
                bad += f.state == "mismatch"
    except DeblurError as exc:
        _fail(str(exc))
    if bad:
        _fail(f"{bad} file(s) do not match the recorded sha256")


@app.command("push")
def push_(
    preset: PresetArg,
    repo: Annotated[str, typer.Option(help="Hub repo ORG/NAME to publish to (created if missing).")],
    folder: Annotated[Path | None, typer.Option(help="Folder to upload (default: PRESET's bundled weights).",
                                                exists=True, file_okay=False)] = None,
    private: Annotated[bool, typer.Option(help="Create the repo as private.")] = False,
) -> None:
    """Publish a preset's weights folder to the Hub (needs a write token: HF_TOKEN or `hf auth login`)."""
    try:
        commit = push(preset, repo, folder=folder, private=private)
    except DeblurError as exc:
        _fail(str(exc))
    typer.echo(f"pushed {preset} to {repo} at commit {commit}; pin it: revision=\"{commit}\" in "
               "deblur_cli/weights/registry.py")


@app.command("import")
def import_(
    architecture: Annotated[str, typer.Argument(help="Published network to import: dmphn (DMPHN 1-2-4).")],
    source: Annotated[Path, typer.Argument(help="The authors' checkpoint folder (six .pkl state dicts, read "
                                                "as tensors only) or a safetensors file of their keys.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Weights folder to write: config, weights, card.")],
) -> None:
    """Convert published weights into a SAPHNet weights folder (`deblur train --init` and `-m` take it)."""
    if architecture != "dmphn":
        raise typer.BadParameter(f"unknown architecture {architecture!r}; choose from dmphn",
                                 param_hint="ARCHITECTURE")
    try:
        digest = import_dmphn(source, out)
    except DeblurError as exc:
        _fail(str(exc))
    typer.echo(f"wrote saphnet-b weights started from DMPHN 1-2-4 to {out} (sha256 {digest})")
