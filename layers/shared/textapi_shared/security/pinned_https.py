"""HTTPS to an address vetted by `outbound.vet_url`, with TLS still checked against the URL's name.

The connection goes to the vetted address itself (no second resolution, so DNS cannot be rebound
between check and use), while SNI, the certificate check and `Host` are the name's. Verification is
never relaxed: a private CA (a local test receiver) is added to what is trusted, nothing more.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from textapi_shared.security.outbound import VettedUrl


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a fixed address, with TLS (SNI, certificate) and `Host` for the URL's name."""

    def __init__(self, vetted: VettedUrl, address: str, *, context: ssl.SSLContext, timeout: float) -> None:
        super().__init__(vetted.host, vetted.port, context=context, timeout=timeout)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Verifying TLS context; `ca_file` adds a private CA (a test receiver) to what is trusted."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def post_json(
    vetted: VettedUrl,
    body: bytes,
    *,
    headers: Mapping[str, str],
    context: ssl.SSLContext,
    timeout_s: float,
) -> int:
    """POST `body` to the first vetted address that accepts a connection; the response status.

    Blocking (run it in a thread). Redirects are not followed: a 3xx is just a status.
    """
    last_error: OSError | None = None
    for address in vetted.addresses:
        connection = _PinnedHTTPSConnection(vetted, address, context=context, timeout=timeout_s)
        try:
            connection.request(
                "POST",
                vetted.target,
                body=body,
                headers={"Content-Type": "application/json", **headers},
            )
            response = connection.getresponse()
            response.read(64 * 1024)
            return response.status
        except ssl.SSLError:
            raise  # the right server would present a valid certificate on any of its addresses
        except OSError as exc:
            last_error = exc
        finally:
            connection.close()
    assert last_error is not None
    raise last_error
