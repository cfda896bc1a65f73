"""Review of `nul_tokens` (git/runner.py) reading with `read1`: every NUL-separated token of the
stream comes out whole and in order, whatever sizes the stream hands its bytes over in (a token
split over several reads, a NUL at a read's edge, a last token with no NUL after it, nothing at
all), whether the stream has `read1` or only `read`; and a token is given as soon as its NUL has
been written, not when a megabyte more has been (a real pipe, still open)."""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from gitqms.git.runner import nul_tokens


def expected(data: bytes) -> list[bytes]:
    """The tokens of `data`: split on NUL; a last NUL (or no data) ends the last token."""
    tokens = data.split(b"\0")
    return tokens[:-1] if tokens[-1] == b"" else tokens


class Trickle:
    """A stream that hands its bytes over in the sizes `sizes` gives (never more than asked),
    through `read1` and, when `only_read`, through `read` alone (a raw stream has no read1)."""

    def __init__(self, data: bytes, sizes: Iterator[int]) -> None:
        self.data = data
        self.at = 0
        self.sizes = sizes
        self.calls = 0

    def _give(self, size: int = -1) -> bytes:
        self.calls += 1
        step = next(self.sizes)
        if size >= 0:
            step = min(step, size)
        chunk = self.data[self.at : self.at + step]
        self.at += len(chunk)
        return chunk


class WithRead1(Trickle):
    def read1(self, size: int = -1) -> bytes:
        return self._give(size)

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("read would wait for a whole chunk; read1 takes what is there")


class OnlyRead(Trickle):
    def read(self, size: int = -1) -> bytes:
        return self._give(size)


def _random_data(rng: random.Random) -> bytes:
    tokens = [
        bytes(rng.choice(b"ab\n:\x01\xff ") for _ in range(rng.choice([0, 0, 1, 2, 5, 40])))
        for _ in range(rng.randint(0, 12))
    ]
    data = b"\0".join(tokens)
    return data + (b"\0" if rng.random() < 0.5 else b"")


@pytest.mark.parametrize("kind", [WithRead1, OnlyRead])
def test_tokens_come_out_whole_whatever_the_chunk_sizes(kind: type[Trickle]) -> None:
    rng = random.Random(f"nul-tokens-{kind.__name__}")
    for _ in range(3000):
        data = _random_data(rng)
        sizes = iter(lambda: rng.choice([1, 1, 2, 3, 5, 7, 64]), None)
        stream: Any = kind(data, sizes)
        found = list(nul_tokens(stream, chunk_size=rng.choice([1, 2, 3, 4096])))
        assert found == expected(data), data


@pytest.mark.parametrize(
    ("data", "tokens"),
    [
        (b"", []),
        (b"\0", [b""]),
        (b"\0\0", [b"", b""]),
        (b"abc", [b"abc"]),  # a last token with no NUL after it
        (b"abc\0", [b"abc"]),
        (b"a\0\0b", [b"a", b"", b"b"]),
        (b"\x01" + b"f" * 40 + b" " + b"e" * 40 + b"\0:100644 100644 x y M\0sops/A.md\0", None),
    ],
)
@pytest.mark.parametrize("size", [1, 2, 3, 1 << 20])
def test_edges(data: bytes, tokens: list[bytes] | None, size: int) -> None:
    for kind in (WithRead1, OnlyRead):
        stream: Any = kind(data, iter(lambda: size, None))
        found = list(nul_tokens(stream))
        assert found == (expected(data) if tokens is None else tokens)


def test_a_token_comes_out_as_soon_as_its_nul_is_read() -> None:
    """Each token is given on the read that brings its NUL, before the stream is read again."""
    stream: Any = WithRead1(b"ab\0cd\0ef", iter([4, 3, 2, 10, 10]))
    tokens = nul_tokens(stream)
    assert next(tokens) == b"ab" and stream.calls == 1
    assert next(tokens) == b"cd" and stream.calls == 2
    assert list(tokens) == [b"ef"]


def test_a_token_on_a_real_pipe_comes_out_while_git_is_still_writing() -> None:
    """A pipe whose writer wrote one token and a half and keeps it open (git still walking):
    the first token is read now, not after the writer has written a megabyte or closed."""
    reader, writer = os.pipe()
    stream = os.fdopen(reader, "rb")  # buffered, as subprocess gives git's stdout
    found: list[bytes] = []
    tokens = nul_tokens(stream)
    thread = threading.Thread(target=lambda: found.append(next(tokens)), daemon=True)
    try:
        os.write(writer, b"first\0sec")
        thread.start()
        thread.join(timeout=10)
        assert found == [b"first"], "the token waited for more of the stream"
    finally:
        os.write(writer, b"ond\0third")
        os.close(writer)
        thread.join(timeout=10)
    assert list(tokens) == [b"second", b"third"]
    stream.close()


class Counted(bytes):
    """A chunk that counts the bytes put before it by `+` (bytes already read, copied again)."""

    copied = 0

    def __radd__(self, other: bytes) -> bytes:
        Counted.copied += len(other)
        return bytes(other) + bytes(self)


class PipeLike(WithRead1):
    """What `read1` gives on git's stdout: at most a pipe's worth (64 KiB) at a time."""

    def read1(self, size: int = -1) -> bytes:
        return Counted(self._give(size))


def test_a_long_token_arriving_in_pipe_sized_pieces_is_not_copied_over_and_over() -> None:
    """A path (or a parent list) of megabytes is git's to write and an insider's to choose (a
    tree entry's name has no length limit): `read1` hands it over 64 KiB at a time, and
    gluing each piece to all that came before copies the token again on every read (a 32 MB
    path: git log read in 7.8 s, against 0.5 s with 1 MB reads; four times the size, sixteen
    times the time). The bytes copied must stay in proportion to the bytes read."""
    token = b"p" * (4 << 20)
    stream: Any = PipeLike(token + b"\0next\0", iter(lambda: 64 << 10, None))
    Counted.copied = 0
    assert list(nul_tokens(stream)) == [token, b"next"]
    copied, size = Counted.copied, len(token)
    assert copied <= 2 * size, f"the token copied {copied / size:.0f} times over"
