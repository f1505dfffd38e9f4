"""Signed download links: genuine and current passes; anything else is refused with the
right stable code."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import pytest

from reportd.adapters.storage.signing import LinkSigner
from reportd.domain.errors import InvalidSignature, LinkExpired

PATH = "/v1/reports/r_123/download?format=csv"
NOW = 1_800_000_000
EXPIRES = NOW + 300


@pytest.fixture
def signer() -> LinkSigner:
    return LinkSigner("s3cret-signing-key")


@pytest.fixture
def query(signer: LinkSigner) -> dict[str, str]:
    return signer.signed_query(PATH, EXPIRES)


def _flip(text: str, index: int) -> str:
    """Change one character to another of the same alphabet, so only its value differs."""
    replacement = "1" if text[index] != "1" else "2"
    return text[:index] + replacement + text[index + 1 :]


def test_genuine_link_verifies(signer: LinkSigner, query: dict[str, str]) -> None:
    signer.verify(PATH, query["expires"], query["signature"], now=NOW)


def test_signature_is_hex_hmac_sha256_over_path_and_expiry(signer: LinkSigner) -> None:
    expected = hmac.new(
        b"s3cret-signing-key", f"{PATH}\n{EXPIRES}".encode(), hashlib.sha256
    ).hexdigest()
    assert signer.sign(PATH, EXPIRES) == expected
    assert signer.signed_query(PATH, EXPIRES) == {"expires": str(EXPIRES), "signature": expected}


def test_str_and_bytes_secrets_agree() -> None:
    assert LinkSigner("k\u00e9y").sign(PATH, EXPIRES) == LinkSigner("k\u00e9y".encode()).sign(
        PATH, EXPIRES
    )


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        LinkSigner("")


@pytest.mark.parametrize("index", range(64))
def test_any_changed_signature_character_is_invalid(
    signer: LinkSigner, query: dict[str, str], index: int
) -> None:
    with pytest.raises(InvalidSignature):
        signer.verify(PATH, query["expires"], _flip(query["signature"], index), now=NOW)


@pytest.mark.parametrize("index", range(len(PATH)))
def test_any_changed_path_byte_is_invalid(
    signer: LinkSigner, query: dict[str, str], index: int
) -> None:
    with pytest.raises(InvalidSignature):
        signer.verify(_flip(PATH, index), query["expires"], query["signature"], now=NOW)


@pytest.mark.parametrize("index", range(len(str(EXPIRES))))
def test_changed_expiry_is_invalid_not_expired(
    signer: LinkSigner, query: dict[str, str], index: int
) -> None:
    """Even a tampered expiry already in the past reports invalid_signature, not
    link_expired: the signature is checked first."""
    tampered = _flip(query["expires"], index)
    with pytest.raises(InvalidSignature) as caught:
        signer.verify(PATH, tampered, query["signature"], now=NOW)
    assert caught.value.code == "invalid_signature"


def test_expired_link_is_link_expired(signer: LinkSigner, query: dict[str, str]) -> None:
    with pytest.raises(LinkExpired) as caught:
        signer.verify(PATH, query["expires"], query["signature"], now=EXPIRES)
    assert caught.value.code == "link_expired"
    assert caught.value.status == 403


def test_link_is_valid_until_its_last_second(signer: LinkSigner, query: dict[str, str]) -> None:
    signer.verify(PATH, query["expires"], query["signature"], now=EXPIRES - 0.001)


def test_default_now_is_the_clock(signer: LinkSigner) -> None:
    old = signer.signed_query(PATH, 1_000)
    with pytest.raises(LinkExpired):
        signer.verify(PATH, old["expires"], old["signature"])


def test_other_secret_is_invalid(query: dict[str, str]) -> None:
    with pytest.raises(InvalidSignature):
        LinkSigner("another-key").verify(PATH, query["expires"], query["signature"], now=NOW)


@pytest.mark.parametrize(
    ("expires", "signature"),
    [(None, "x"), ("1", None), (None, None), ("", "abc"), ("123", "")],
    ids=["no-expires", "no-signature", "neither", "empty-expires", "empty-signature"],
)
def test_missing_parameters_are_invalid(
    signer: LinkSigner, expires: str | None, signature: str | None
) -> None:
    with pytest.raises(InvalidSignature):
        signer.verify(PATH, expires, signature, now=NOW)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda q: (q["expires"], q["signature"].upper()),
        lambda q: (q["expires"], q["signature"][:-1]),
        lambda q: (q["expires"], q["signature"] + "0"),
        lambda q: (q["expires"], q["signature"][:-1] + "g"),
        lambda q: (q["expires"], "\u00e9" * 64),
        lambda q: ("0" + q["expires"], q["signature"]),
        lambda q: ("+" + q["expires"], q["signature"]),
        lambda q: (q["expires"] + ".0", q["signature"]),
        lambda q: (" " + q["expires"], q["signature"]),
        lambda q: ("-1", q["signature"]),
    ],
    ids=[
        "uppercase",
        "short",
        "long",
        "non-hex",
        "non-ascii",
        "leading-zero",
        "plus-sign",
        "float",
        "space",
        "negative",
    ],
)
def test_malformed_parameters_are_invalid(
    signer: LinkSigner,
    query: dict[str, str],
    mangle: Callable[[dict[str, str]], tuple[str, str]],
) -> None:
    expires, signature = mangle(query)
    with pytest.raises(InvalidSignature):
        signer.verify(PATH, expires, signature, now=NOW)


def test_comparison_is_constant_time(
    signer: LinkSigner, query: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signature is compared with hmac.compare_digest, never ``==``, so response
    timing does not reveal how many leading characters of a guess were right."""
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    signer.verify(PATH, query["expires"], query["signature"], now=NOW)
    wrong = _flip(query["signature"], 0)
    with pytest.raises(InvalidSignature):
        signer.verify(PATH, query["expires"], wrong, now=NOW)
    assert calls == [
        (query["signature"], query["signature"]),
        (query["signature"], wrong),
    ]


def test_repr_hides_the_secret(signer: LinkSigner) -> None:
    assert "s3cret" not in repr(signer)
