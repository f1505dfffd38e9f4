"""The file formats and packagings a report can be delivered in."""

from __future__ import annotations

from enum import StrEnum

from reportd.domain.errors import FormatInapplicable


class Format(StrEnum):
    CSV = "csv"
    JSON = "json"
    NDJSON = "ndjson"
    XLSX = "xlsx"
    PARQUET = "parquet"
    PDF = "pdf"
    ZIP = "zip"  # not written from rows: one archive of the report's other formats

    @property
    def extension(self) -> str:
        return self.value

    @property
    def is_bundle(self) -> bool:
        return self is Format.ZIP

    @classmethod
    def parse(cls, name: str) -> Format:
        """The format called ``name`` (any case), or ``format_inapplicable``."""
        try:
            return cls(str(name).lower())
        except ValueError:
            known = [f.value for f in cls]
            raise FormatInapplicable(f"{name!r} is not a format; known: {known}") from None

    @property
    def mime_type(self) -> str:
        return _MIME[self]


_MIME = {
    Format.CSV: "text/csv",
    Format.JSON: "application/json",
    Format.NDJSON: "application/x-ndjson",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.PARQUET: "application/vnd.apache.parquet",
    Format.PDF: "application/pdf",
    Format.ZIP: "application/zip",
}


class Packaging(StrEnum):
    NONE = "none"
    ZIP = "zip"
    GZIP = "gzip"

    def wrap_extension(self, extension: str) -> str:
        if self is Packaging.ZIP:
            return f"{extension}.zip"
        if self is Packaging.GZIP:
            return f"{extension}.gz"
        return extension

    def wrap_mime(self, mime_type: str) -> str:
        if self is Packaging.ZIP:
            return "application/zip"
        if self is Packaging.GZIP:
            return "application/gzip"
        return mime_type


class ZipEncryption(StrEnum):
    """How a password-protected zip is encrypted: the trade-off is who can open it.

    ``aes256`` (WinZip AE-2) is strong, and opened by 7-Zip, WinZip, macOS's Archive Utility
    and libraries (pyzipper, libarchive): the default where the recipient is a program.
    ``zipcrypto`` (the traditional PKWARE cipher) is weak (known-plaintext attacks recover
    files), but Windows Explorer and Info-ZIP ``unzip -P`` open it: for people.
    """

    AES256 = "aes256"
    ZIPCRYPTO = "zipcrypto"

    @classmethod
    def parse(cls, name: str) -> ZipEncryption:
        try:
            return cls(str(name).lower())
        except ValueError:
            from reportd.domain.errors import ValidationError

            known = [e.value for e in cls]
            raise ValidationError(f"zip_encryption must be one of {known}") from None


class FieldType(StrEnum):
    """A field's declared type: every source's values are cast to it before any writer.

    ``decimal`` keeps its precision and scale exactly (text in flat formats and JSON);
    ``json`` holds objects, arrays or scalars (JSON text in flat formats, raw in JSON);
    ``list`` holds arrays (JSON text in flat formats, arrays in JSON).
    """

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    DECIMAL = "decimal"
    TIME = "time"
    JSON = "json"
    LIST = "list"
