"""S9 for the vault's file store: only ciphertext touches the disk, nothing is left over."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest

from tropa.vault import crypto
from tropa.vault.files import file_destroy, file_open, file_seal, vault_dir

pytestmark = pytest.mark.django_db

CANARY = b"PASSPORT-CANARY-4509-771234 " * 4000


@pytest.fixture(autouse=True)
def _media(tmp_path: Path, settings) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


class Watching(io.BytesIO):
    """A source that, halfway through, records what the vault folder holds."""

    seen: list[bytes]

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.seen = []

    def read(self, size: int = -1) -> bytes:
        if self.tell() > len(self.getvalue()) // 2 and not self.seen:
            self.seen = [p.read_bytes() for p in vault_dir().iterdir()]
        return super().read(size)


def test_sealed_file_is_ciphertext_during_and_after_writing() -> None:
    pair = crypto.keypair_generate()
    source = Watching(CANARY)
    sealed = file_seal(public_key=pair.public, src=source)
    assert source.seen, "the temporary file was never observed"
    for data in [*source.seen, (vault_dir() / sealed.name).read_bytes()]:
        assert b"PASSPORT-CANARY" not in data
        # Random-looking: ciphertext does not compress.
        assert len(zlib.compress(data)) > 0.95 * len(data)
    assert [p.name for p in vault_dir().iterdir()] == [sealed.name]
    assert file_open(sealed=sealed, private_key=pair.private) == CANARY


def test_a_failed_upload_leaves_nothing_behind() -> None:
    class Broken(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            if self.tell() > 100_000:
                raise OSError("connection dropped")
            return super().read(size)

    with pytest.raises(OSError):
        file_seal(public_key=crypto.keypair_generate().public, src=Broken(CANARY))
    assert list(vault_dir().iterdir()) == []


def test_a_truncated_file_never_opens() -> None:
    pair = crypto.keypair_generate()
    sealed = file_seal(public_key=pair.public, src=io.BytesIO(CANARY))
    path = vault_dir() / sealed.name
    path.write_bytes(path.read_bytes()[: len(CANARY) // 2])
    with pytest.raises(crypto.TruncatedStream):
        file_open(sealed=sealed, private_key=pair.private)


def test_the_intake_side_cannot_read_back_what_it_stored() -> None:
    pair = crypto.keypair_generate()
    sealed = file_seal(public_key=pair.public, src=io.BytesIO(CANARY))
    with pytest.raises(crypto.DecryptionError):
        file_open(sealed=sealed, private_key=crypto.keypair_generate().private)
    file_destroy(sealed.name)
    assert list(vault_dir().iterdir()) == []
