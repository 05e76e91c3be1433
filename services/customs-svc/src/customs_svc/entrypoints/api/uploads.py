"""Reading a document upload (multipart/form-data) as it streams, within a size limit.

The form has two fields: `document_type` (one of the fixed list) and `file`. The file's bytes
are counted as they arrive and the upload is refused the moment it passes the limit; the content
is then recognised by its first bytes (PDF, PNG, JPEG), never by its name or declared type.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from customs_svc.domain.documents import (
    DOCUMENT_TYPES,
    SNIFF_BYTES,
    DocumentRefused,
    sniff,
)
from customs_svc.service_layer.documents import Upload
from customs_svc.service_layer.errors import (
    DocumentEmpty,
    DocumentRejected,
    DocumentTooLarge,
    DocumentTypeNotAllowed,
    MalformedUpload,
)

_FIELD_LIMIT = 1024
_EXPECTED = "multipart/form-data with the fields `document_type` and `file`"


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


@dataclass
class _Form:
    max_bytes: int
    parts: list[_Part] = field(default_factory=list)
    header_name: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)

    @property
    def part(self) -> _Part:
        return self.parts[-1]

    def begin(self) -> None:
        self.parts.append(_Part())

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def header_val(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        name = self.header_name.decode("latin-1").lower()
        self.part.headers[name] = self.header_value.decode("utf-8", "replace")
        self.header_name.clear()
        self.header_value.clear()

    def headers_done(self) -> None:
        _, params = parse_options_header(self.part.headers.get("content-disposition", ""))
        self.part.name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        self.part.filename = filename.decode("utf-8", "replace")[:128] if filename else None

    def data(self, data: bytes, start: int, end: int) -> None:
        part = self.part
        limit = self.max_bytes if part.name == "file" else _FIELD_LIMIT
        if len(part.data) + (end - start) > limit:
            if part.name == "file":
                raise DocumentTooLarge(
                    f"The document is larger than {self.max_bytes} bytes "
                    f"({self.max_bytes // (1024 * 1024)} MiB), the most accepted.",
                    max_bytes=self.max_bytes,
                )
            raise MalformedUpload(f"The form field {part.name!r} is too long.")
        part.data += data[start:end]


def _parser(boundary: bytes, form: _Form) -> MultipartParser:
    return MultipartParser(
        boundary,
        {
            "on_part_begin": form.begin,
            "on_header_field": form.header_field,
            "on_header_value": form.header_val,
            "on_header_end": form.header_end,
            "on_headers_finished": form.headers_done,
            "on_part_data": form.data,
        },
    )


async def _read_form(request: Request, *, max_bytes: int) -> _Form:
    media_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise MalformedUpload(f"Send {_EXPECTED}.")
    form = _Form(max_bytes=max_bytes)
    parser = _parser(boundary, form)
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise MalformedUpload(f"The multipart body cannot be read: {exc}.") from None
    return form


def _document_type(form: _Form) -> str:
    values = [p.data.decode("utf-8", "replace").strip() for p in form.parts
              if p.name == "document_type"]  # fmt: skip
    if len(values) != 1:
        raise MalformedUpload(f"Send exactly one `document_type` field: {_EXPECTED}.")
    if values[0] not in DOCUMENT_TYPES:
        raise DocumentRejected(
            f"document_type {values[0]!r} is not one of {', '.join(DOCUMENT_TYPES)}.",
            allowed=list(DOCUMENT_TYPES),
        )
    return values[0]


async def read_upload(request: Request, *, max_bytes: int) -> Upload:
    """The upload of a request, checked: its type, size and content; refused otherwise."""
    form = await _read_form(request, max_bytes=max_bytes)
    files = [p for p in form.parts if p.name == "file"]
    if len(files) != 1:
        raise MalformedUpload(f"Send exactly one `file` part: {_EXPECTED}.")
    document_type = _document_type(form)
    content = bytes(files[0].data)
    try:
        media_type = sniff(content[:SNIFF_BYTES], size=len(content))
    except DocumentRefused as exc:
        if exc.code == "document-empty":
            raise DocumentEmpty(str(exc)) from None
        raise DocumentTypeNotAllowed(str(exc), reason=exc.code) from None
    return Upload(
        document_type=document_type,
        filename=files[0].filename,
        content=content,
        media_type=media_type,
        sha256=hashlib.sha256(content).hexdigest(),
    )
