"""The one exception tree of replyqa: every library error is a `ReplyQAError`."""

from __future__ import annotations


class ReplyQAError(Exception):
    """Base of every error replyqa raises; the message says what to do next."""


class InvalidInputError(ReplyQAError, ValueError):
    """A caller passed something replyqa cannot work with (empty text, bad field)."""


class DataError(ReplyQAError):
    """Labeled data or an input file is malformed."""


class ModelNotFoundError(ReplyQAError):
    """No model where one was expected."""


class ArtifactError(ReplyQAError):
    """A model artifact cannot be trusted or used (hash mismatch, bad manifest, version)."""


class PolicyError(ReplyQAError):
    """An SLA policy is malformed or does not cover a severity."""


class RegistryError(ReplyQAError):
    """A model version, pointer or promotion request is invalid."""


class QualityGateError(RegistryError):
    """A candidate model failed the quality gate and was not promoted."""


class InputTooLargeError(InvalidInputError):
    """A text, batch or body is over the configured limit."""


class AuthError(ReplyQAError):
    """A state-changing request lacks a valid token (or the endpoint is switched off)."""
