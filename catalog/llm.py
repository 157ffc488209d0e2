"""The tutor's language-model provider: one OpenAI-compatible chat-completions call.

Off unless ``TUTOR_PROVIDER`` is set ("openai": any server speaking the
chat-completions HTTP API, hosted or self-hosted). The standard library's
``urllib`` does the request, like the xAPI sender (learning.xapi): one POST
with a JSON body needs no SDK, and no new runtime dependency.

Every failure (timeout, refused connection, a non-2xx status, a reply that is
not the expected JSON) raises ``ProviderError`` whose text can be shown to a
learner as it is; callers fall back to what works without a provider.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

# A chat reply is a few kilobytes; anything far larger is not a reply we asked for.
MAX_REPLY_BYTES = 1_000_000


class ProviderError(Exception):
    """The provider gave no usable answer; the message is meant for the person asking."""


def provider_enabled() -> bool:
    """Whether a provider is configured (settings are validated at start-up)."""
    return settings.TUTOR_PROVIDER == "openai"


def chat_complete(
    *, system: str, user: str, json_reply: bool = False, max_tokens: int = 800
) -> str:
    """The model's reply to one system + user message pair (its text, unparsed).

    ``json_reply`` asks for a JSON object (``response_format``); the caller still
    validates it, since not every compatible server honours the option.
    """
    if not provider_enabled():
        raise ProviderError("The tutor is not configured on this site.")
    body: dict[str, Any] = {
        "model": settings.TUTOR_MODEL,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "temperature": 0.2,
        "max_tokens": max_tokens,
    }
    if json_reply:
        body["response_format"] = {"type": "json_object"}
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if settings.TUTOR_API_KEY:
        headers["Authorization"] = f"Bearer {settings.TUTOR_API_KEY}"
    timeout = settings.TUTOR_TIMEOUT_SECONDS
    try:
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
            settings.TUTOR_BASE_URL.rstrip("/") + "/chat/completions",
            data=json.dumps(body).encode(),
            headers=headers,
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read(MAX_REPLY_BYTES + 1)
    except urllib.error.HTTPError as error:
        logger.warning("Tutor provider answered HTTP %s", error.code)
        raise ProviderError(
            f"The tutor's provider answered with an error (HTTP {error.code}); try again later."
        ) from error
    except TimeoutError as error:
        raise ProviderError(f"The tutor did not answer within {timeout:g} seconds.") from error
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            raise ProviderError(f"The tutor did not answer within {timeout:g} seconds.") from error
        logger.warning("Tutor provider unreachable: %s", reason)
        raise ProviderError("The tutor's provider cannot be reached right now.") from error
    if len(raw) > MAX_REPLY_BYTES:
        raise ProviderError("The tutor's provider sent a reply that is far too long.")
    return _reply_text(raw)


def _reply_text(raw: bytes) -> str:
    """``choices[0].message.content`` of a chat-completions reply, or ProviderError."""
    try:
        content = json.loads(raw)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        logger.warning("Tutor provider sent a malformed reply: %r", raw[:200])
        raise ProviderError("The tutor's provider sent a reply we could not read.") from error
    if not isinstance(content, str) or not content.strip():
        raise ProviderError("The tutor's provider sent an empty reply.")
    return content.strip()
