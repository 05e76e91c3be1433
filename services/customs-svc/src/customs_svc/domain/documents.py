"""What an uploaded document may be: PDF, PNG or JPEG, recognised by content, never by name."""

from __future__ import annotations

from typing import Literal

#: The documents an authority may ask for (the events' DocumentType).
DOCUMENT_TYPES = (
    "commercial_invoice",
    "proof_of_value",
    "certificate_of_origin",
    "import_licence",
    "product_specification",
    "buyer_identification",
    "safety_certificate",
)
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
_EXECUTABLES: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "an ELF executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"#!", "a script"),
)
#: How many leading bytes `sniff` needs.
SNIFF_BYTES = 8
RefusalCode = Literal["document-empty", "document-executable", "document-type-not-allowed"]


class DocumentRefused(ValueError):
    """The upload is not an acceptable document; `code` is the problem's slug."""

    def __init__(self, code: RefusalCode, message: str) -> None:
        super().__init__(message)
        self.code: RefusalCode = code


def sniff(head: bytes, *, size: int) -> str:
    """The media type of a document from its first bytes; DocumentRefused if not allowed."""
    if size == 0:
        raise DocumentRefused("document-empty", "The document is empty (0 bytes).")
    for magic, media_type in MAGIC:
        if head.startswith(magic):
            return media_type
    for magic, what in _EXECUTABLES:
        if head.startswith(magic):
            raise DocumentRefused(
                "document-executable",
                f"The file is {what}, whatever its name says: only PDF, PNG and JPEG "
                "documents are accepted.",
            )
    raise DocumentRefused(
        "document-type-not-allowed",
        "The file's content is not PDF, PNG or JPEG (checked by its first bytes, not its "
        "name or declared type).",
    )
