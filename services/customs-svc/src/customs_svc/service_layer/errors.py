"""Refusals of the use cases, answered as problem+json by the HTTP kit."""

from __future__ import annotations

from xborder_platform.errors import Conflict, DomainError, Invalid, NotFound


class QuoteRefused(Invalid):
    """The consignment cannot be quoted (unknown destination, bad HS code, over a limit)."""

    type = "quote-refused"
    title = "The consignment cannot be quoted"


class DeclarationNotFound(NotFound):
    """No such declaration (or not the caller's)."""

    type = "declaration-not-found"
    title = "Declaration not found"


class QuoteNotFound(NotFound):
    """No such quote (or not the caller's)."""

    type = "quote-not-found"
    title = "Quote not found"


class NoOpenHold(Conflict):
    """The declaration has no hold waiting for documents."""

    type = "no-open-hold"
    title = "No hold is waiting for documents"


class UnknownAuthority(NotFound):
    """The authority code is not one of ours."""

    type = "unknown-authority"
    title = "Unknown authority"


class InvalidSignature(DomainError):
    """The webhook's signature is missing, wrong or too old."""

    status = 401
    type = "invalid-signature"
    title = "Invalid webhook signature"


class InvalidDecision(Invalid):
    """The decision names another authority's declaration or lacks what its outcome needs."""

    type = "invalid-decision"
    title = "The decision cannot be applied"


class DocumentRejected(DomainError):
    """The uploaded file is not an acceptable document."""

    status = 422
    type = "document-rejected"
    title = "The document is not accepted"


class DocumentEmpty(DocumentRejected):
    """The upload has no bytes."""

    type = "document-empty"
    title = "The document is empty"


class DocumentTooLarge(DocumentRejected):
    """The upload is larger than the limit."""

    status = 413
    type = "document-too-large"
    title = "The document is too large"


class DocumentTypeNotAllowed(DocumentRejected):
    """The content is not PDF, PNG or JPEG (an executable, say), whatever its name."""

    status = 415
    type = "document-type-not-allowed"
    title = "Only PDF, PNG and JPEG documents are accepted"


class MalformedUpload(DocumentRejected):
    """The multipart body is not what the route expects."""

    status = 400
    type = "malformed-upload"
    title = "The upload is not a valid multipart form"
