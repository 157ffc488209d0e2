"""The client's address, as far as this deployment can trust it.

``X-Forwarded-For`` is written by whoever sends the request, so it only says
something when our own proxies append to it. ``TRUSTED_PROXY_COUNT`` is how
many of them sit in front of the app: 0 (the default) means the socket peer
(``REMOTE_ADDR``) is the client; with N proxies the client is the N-th address
from the right, the one the outermost trusted proxy saw. Anything to its left
is client-supplied and ignored. Every throttle and the login lockout key on
this one function, so a rotating header cannot buy fresh attempts.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if not forwarded:
        return remote
    candidate = forwarded[-min(count, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # A proxy we trust wrote something that is not an address: do not let it
        # become a free-form throttle key.
        return remote
