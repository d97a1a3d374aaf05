"""Walking the paths a user gives into a list of photos, and naming each photo's output."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ImageWriteError
from .formats import FORMAT_EXTENSIONS, IMAGE_EXTENSIONS, format_for_path, normalise_format

#: What `<stem>` becomes beside the input when no output folder is given.
DEFAULT_SUFFIX = "_deblurred"


@dataclass(frozen=True)
class InputFile:
    """One photo to process: its path, and its path relative to the folder it was found in.

    For a file named directly on the command line, `relative` is just its name.
    """

    path: Path
    relative: Path


def find_inputs(
    paths: Iterable[str | os.PathLike[str]],
    *,
    recursive: bool = False,
    exclude: Sequence[str | os.PathLike[str]] = (),
    on_error: Callable[[Path, str], None] | None = None,
) -> list[InputFile]:
    """List the photos named by `paths`: files as given, folders walked (into subfolders if `recursive`).

    In folders, only files with an image extension count; hidden files and folders and anything under
    `exclude` (the output folder) are skipped, and a folder that cannot be listed is passed to
    `on_error(folder, reason)`. Which files are earlier results is the caller's plan to tell. Files named
    directly are kept whatever they are (even missing ones), so reading them later reports why they fail.
    Each photo appears once.
    """
    excluded = [Path(p).resolve() for p in exclude]
    found: list[InputFile] = []
    seen: set[Path] = set()

    def add(item: InputFile) -> None:
        key = item.path.resolve()
        if key not in seen:
            seen.add(key)
            found.append(item)

    for given in map(Path, paths):
        if not given.is_dir():
            add(InputFile(given, Path(given.name)))
            continue
        for file in _walk(given, recursive=recursive, on_error=on_error):
            resolved = file.resolve()
            if any(resolved.is_relative_to(e) for e in excluded):
                continue
            if file.suffix.lower() in IMAGE_EXTENSIONS:
                add(InputFile(file, file.relative_to(given)))
    return found


def _walk(folder: Path, *, recursive: bool, on_error: Callable[[Path, str], None] | None) -> list[Path]:
    def unlisted(error: OSError) -> None:
        if on_error is not None:
            where = Path(error.filename) if error.filename else folder
            on_error(where, f"{where}: cannot list the folder ({error.strerror or error})")

    files: list[Path] = []
    for root, dirs, names in os.walk(folder, onerror=unlisted):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        files.extend(Path(root) / n for n in sorted(names) if not n.startswith("."))
    return files


def check_output_folder(folder: str | os.PathLike[str]) -> None:
    """Check, before any work, that results can be written into `folder` (created later if missing): its
    nearest existing ancestor must be a folder that takes a new file.

    Raises:
        ImageWriteError: a file stands where a folder is needed, or the file system refuses new files.
    """
    folder = Path(folder)
    existing = next(p for p in (folder, *folder.parents) if p.exists() or p == p.parent)
    if not existing.is_dir():
        raise ImageWriteError(f"cannot write into {folder}: {existing} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise ImageWriteError(f"cannot write into {folder} ({exc.strerror or exc})") from None


def output_path(
    item: InputFile,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    suffix: str | None = None,
    format: str | None = None,
) -> Path:
    """Where `item`'s result goes.

    Without `out_dir`: `<stem><suffix>.<ext>` beside the input (suffix defaults to "_deblurred"). With it:
    `out_dir/<relative folder>/<stem><suffix>.<ext>`, mirroring the input tree (suffix defaults to "").
    `format` None or "auto" keeps the input's extension; otherwise the extension names that format.

    Raises:
        ImageWriteError: the output would be the input itself (inputs are never written to).
        ValueError: unknown format.
    """
    if suffix is None:
        suffix = "" if out_dir is not None else DEFAULT_SUFFIX
    extension = _output_extension(item.path, format)
    name = f"{item.path.stem}{suffix}{extension}"
    target = Path(out_dir) / item.relative.parent / name if out_dir is not None else item.path.with_name(name)
    if _same_file(target, item.path):
        raise ImageWriteError(f"{item.path}: its output would overwrite the input; give a suffix or -o")
    return target


def _output_extension(source: Path, format: str | None) -> str:
    if format is None or format.lower() == "auto":
        return source.suffix
    fmt = normalise_format(format)
    try:
        same_format = format_for_path(source) == fmt
    except ValueError:
        same_format = False
    return source.suffix if same_format else FORMAT_EXTENSIONS[fmt]


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()
