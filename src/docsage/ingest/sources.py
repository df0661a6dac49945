"""Finding the files to ingest under a root, and reading them safely.

Every problem with one file becomes a ``SkippedFile`` reason; nothing here raises for a
single bad file. Default ignore rules cover VCS folders, environments, build output, static
assets and Sphinx's ``_sources`` copies; a ``.gitignore`` or ``.docsageignore`` at the root
adds to them, and callers may replace the defaults.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import pathspec

from docsage.types import SkippedFile

DEFAULT_IGNORES: tuple[str, ...] = (
    ".git/",
    ".hg/",
    ".svn/",
    ".venv/",
    "venv/",
    "node_modules/",
    "__pycache__/",
    ".tox/",
    ".nox/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    "*.egg-info/",
    "_static/",
    "_images/",
    "_downloads/",
    "_sources/",
    # Sphinx viewcode's highlighted copies of the source: code, not docs, and a sixth of the
    # chunks of a build that has them.
    "_modules/",
    ".doctrees/",
    ".buildinfo",
    "genindex*.html",
    "search.html",
    "py-modindex.html",
    "searchindex.js",
    "objects.inv",
    ".docsage/",
)
IGNORE_FILES = (".gitignore", ".docsageignore")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceFile:
    path: Path
    source: str  # path relative to the root, with forward slashes


@dataclass(frozen=True, kw_only=True, slots=True)
class ReadFile:
    source: str
    text: str
    content_hash: str
    size: int
    encoding: str = "utf-8"  # what the text was decoded from; anything else is reported


def ignore_spec(root: Path, extra: Sequence[str], use_defaults: bool) -> pathspec.PathSpec:  # type: ignore[type-arg]
    lines = list(DEFAULT_IGNORES if use_defaults else ())
    for name in IGNORE_FILES:
        candidate = root / name
        if candidate.is_file():
            lines.extend(candidate.read_text(encoding="utf-8", errors="replace").splitlines())
    lines.extend(extra)
    return pathspec.GitIgnoreSpec.from_lines(lines)


def walk(
    root: Path, *, ignore: Sequence[str] = (), use_default_ignores: bool = True
) -> tuple[list[SourceFile], list[SkippedFile]]:
    """Files under ``root`` that the ignore rules keep, sorted, and the skipped symlinks.

    Symlinked directories are not followed (that is what makes loops impossible); a
    symlinked file is read if it resolves, and reported if it does not.
    """
    root = root.resolve()
    spec = ignore_spec(root, ignore, use_default_ignores)
    found: list[SourceFile] = []
    skipped: list[SkippedFile] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if not spec.match_file(prefix + d + "/"))
        for name in dirnames:
            if (Path(dirpath) / name).is_symlink():
                reason = "symlinked folder not followed"
                skipped.append(SkippedFile(source=prefix + name, reason=reason))
        for name in sorted(filenames):
            rel = prefix + name
            if spec.match_file(rel):
                continue
            path = Path(dirpath) / name
            if path.is_symlink() and not _resolves(path):
                skipped.append(SkippedFile(source=rel, reason="broken symlink or symlink loop"))
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                # A link out of the tree would let a docs folder pull in any file the
                # process can read (an ingest started over the API, say).
                reason = "symlink points outside the ingested folder"
                skipped.append(SkippedFile(source=rel, reason=reason))
                continue
            found.append(SourceFile(path=path, source=rel))
    return found, skipped


def _resolves(path: Path) -> bool:
    try:
        path.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return True


def read_source(file: SourceFile, *, max_bytes: int, salt: str) -> ReadFile | SkippedFile:
    """The file's text and content hash, or the reason it cannot be ingested.

    ``salt`` goes into the hash, so changing the parsers re-processes every file once.
    """
    try:
        info = file.path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            return SkippedFile(source=file.source, reason="not a regular file")
        size = info.st_size
        if size > max_bytes:
            return SkippedFile(
                source=file.source, reason=f"over the size limit ({size} > {max_bytes} bytes)"
            )
        data = file.path.read_bytes()
    except OSError as exc:
        return SkippedFile(source=file.source, reason=f"unreadable: {exc.strerror or exc}")
    if not data.strip():
        return SkippedFile(source=file.source, reason="empty file")
    decoded = decode(data)
    if isinstance(decoded, str):
        return SkippedFile(source=file.source, reason=decoded)
    text, encoding = decoded
    digest = hashlib.sha256(salt.encode() + b"\0" + data).hexdigest()
    return ReadFile(
        source=file.source, text=text, content_hash=digest, size=size, encoding=encoding
    )


# UTF-32's marks first: the little-endian one starts with UTF-16's.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode(data: bytes) -> tuple[str, str] | str:
    """``(text, encoding)``, or the reason the bytes are not text.

    A UTF-16/32 byte-order mark first (those files are full of NUL bytes, so before the
    binary check); then UTF-8 (most files); then charset-normalizer's best guess for legacy
    8-bit text (Latin-1, cp1252...), which the ingest report names.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                return f"not {encoding} text despite its byte-order mark"
    if b"\x00" in data[:8192]:
        return "binary file"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        return "not text in any charset we could detect"
    # Short texts tie between many 8-bit charsets; break the tie towards windows-1252, which
    # is what browsers assume for undeclared legacy text (it covers Latin-1's letters).
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    best = next((m for m in tied if m.encoding == "cp1252"), best)
    return str(best), best.encoding


def iter_read(
    files: Sequence[SourceFile], *, max_bytes: int, salt: str
) -> Iterator[ReadFile | SkippedFile]:
    for file in files:
        yield read_source(file, max_bytes=max_bytes, salt=salt)
